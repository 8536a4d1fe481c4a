import { describe, expect, it } from 'vitest';
import type { ApprovalValue } from '../../../shared/contract-approvals.js';
import { approvalNoticeText, newApprovals } from '../../../electron/main/approval-notice.js';

const request = (id: string, over: Partial<ApprovalValue> = {}): ApprovalValue => ({
  id,
  kind: 'sign-in',
  app: { id: 'ca_0123456789abcdef', name: 'Acme CRM', transitKeyFingerprint: null, keyBits: 256 },
  reason: 'secret reason text',
  returnTo: null,
  ip: '127.0.0.1',
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:02:00.000Z',
  blocked: false,
  ...over,
});

describe('approval notifications', () => {
  it('announces each request once, never a blocked one', () => {
    const announced = new Set<string>();
    expect(newApprovals([request('a'), request('b', { blocked: true })], announced).map((r) => r.id)).toEqual(['a']);
    expect(newApprovals([request('a'), request('c')], announced).map((r) => r.id)).toEqual(['c']);
  });

  it('names the application and what it asks, never the reason', () => {
    expect(approvalNoticeText([request('a')])).toEqual({ title: 'Acme CRM asks to sign you in', body: 'Open Sealpost to approve or deny.' });
    expect(approvalNoticeText([request('a', { kind: 'key' })])!.title).toBe('Acme CRM asks for your personal key');
    expect(approvalNoticeText([request('a'), request('b')])!.title).toBe('2 applications ask for your approval');
    expect(JSON.stringify(approvalNoticeText([request('a')]))).not.toContain('secret reason');
    expect(approvalNoticeText([])).toBeNull();
  });
});
