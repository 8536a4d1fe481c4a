/** How a message is filed under its conversation (vault/threads.ts): the same set of people gives the same name. */
import { describe, expect, it } from 'vitest';
import { isGroupId as isGroup } from '../../../shared/conversation-id.js';
import { threadOf } from '../../../electron/engine/vault/threads.js';

const p = (id: string) => ({ userid: id, username: `name-${id}` });

describe('threadOf', () => {
  it('names a two-person conversation by the other person, from either side', () => {
    expect(threadOf('a', { from: p('a'), to: [p('b')] })).toEqual({ thread: 'b', members: [p('b')] });
    expect(threadOf('b', { from: p('a'), to: [p('b')] }).thread).toBe('a');
  });

  it('names a group by the others, whatever the order, repeats or who sent it', () => {
    const seenByA = threadOf('a', { from: p('a'), to: [p('c'), p('b')] });
    expect(isGroup(seenByA.thread)).toBe(true);
    expect(seenByA.members.map((m) => m.userid)).toEqual(['b', 'c']);
    // b replying to everyone, with a named twice: a still files it under the same group.
    expect(threadOf('a', { from: p('b'), to: [p('a'), p('c'), p('a')] }).thread).toBe(seenByA.thread);
    // Another set of people is another group.
    expect(threadOf('a', { from: p('a'), to: [p('b'), p('d')] }).thread).not.toBe(seenByA.thread);
    expect(seenByA.thread).toMatch(/^group:[0-9a-f]{32}$/);
  });

  it('a note to self is filed under ourselves', () => {
    expect(threadOf('a', { from: p('a'), to: [p('a')] }).thread).toBe('a');
  });
});
