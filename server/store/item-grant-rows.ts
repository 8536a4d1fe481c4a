/**
 * The key service's rows for shared vault items: items, grants and an item
 * as the grantee sees it (types.ts has the Store).
 */

export interface ItemRow {
  appId: string;
  identifier: string;
  ownerId: string;
  version: number;
  data: Buffer;
  ownerWrappedKey: Buffer | null;
  createdAt: number;
  updatedAt: number;
}

export interface GrantRow {
  identifier: string;
  userId: string;
  role: 'read' | 'edit';
  wrappedKey: Buffer;
  grantedAt: number;
}

export interface SharedItemRow extends ItemRow {
  role: 'read' | 'edit';
  grantWrappedKey: Buffer;
}
