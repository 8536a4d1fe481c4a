/**
 * Which connected-app requests deserve an OS notification, and its text
 * (plain Node: unit-tested without Electron). A request is announced once,
 * only while the window is not focused (otherwise the approval card shows it).
 * The text names the application and what it asks, never a key or the reason
 * the application gave (notification centres keep text outside the app).
 */
import type { ApprovalValue } from '../../shared/contract-approvals.js';

const ASKS: Record<ApprovalValue['kind'], string> = { key: 'asks for your personal key', 'sign-in': 'asks to sign you in', 'sign-in+key': 'asks to sign you in' };

/** The requests not announced before (and remembers them in `announced`). */
export function newApprovals(requests: readonly ApprovalValue[], announced: Set<string>): ApprovalValue[] {
  const fresh = requests.filter((r) => !announced.has(r.id) && !r.blocked);
  for (const r of fresh) announced.add(r.id);
  return fresh;
}

export function approvalNoticeText(fresh: readonly ApprovalValue[]): { title: string; body: string } | null {
  if (fresh.length === 0) return null;
  if (fresh.length === 1) return { title: `${fresh[0]!.app.name} ${ASKS[fresh[0]!.kind]}`, body: 'Open Sealpost to approve or deny.' };
  return { title: `${fresh.length} applications ask for your approval`, body: 'Open Sealpost to approve or deny.' };
}
