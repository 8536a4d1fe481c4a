/**
 * The desktop shell's calls in main (shared/contract-desktop.ts,
 * electron/main/desktop-dispatch.ts, save-attachment.ts), the parts that need
 * neither Electron nor an engine: every argument from the page is checked
 * before anything runs (ids, a file name that is not a path, no extra keys),
 * what the save dialog returns is checked before anything is written, the
 * saved files are named back by random ids only, and file-system refusals say
 * which folder and why. The save itself, against a real engine, is in
 * test/e2e/attachments.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDesktopApi, desktopChannels, desktopContract, type DesktopHandlers } from '../../../shared/contract-desktop.js';
import { dispatchDesktop } from '../../../electron/main/desktop-dispatch.js';
import { checkSavePath, fsFailure, SavedFiles, saveAttachment, showSaved } from '../../../electron/main/save-attachment.js';

const ATT = 'a'.repeat(32);
const valid = { messageId: 7, attachmentId: ATT, name: 'report.pdf' };

/** Handlers that record what reached them: only validated input may. */
function recording() {
  const seen: unknown[] = [];
  const handlers: DesktopHandlers = {
    'desktop:saveAttachment': async (input) => {
      seen.push(input);
      return { code: 0, value: { saved: false } };
    },
    'desktop:showSaved': async (input) => {
      seen.push(input);
      return { code: 0, value: { shown: true } };
    },
  };
  return { seen, handlers };
}

describe('dispatchDesktop', () => {
  it('passes a valid call through and refuses every malformed one before the handler', async () => {
    const { seen, handlers } = recording();
    expect(await dispatchDesktop(handlers, 'desktop:saveAttachment', valid)).toEqual({ code: 0, value: { saved: false } });
    expect(seen).toEqual([valid]);
    seen.length = 0;

    const bad: [unknown, unknown][] = [
      ['desktop:saveAttachment', { ...valid, name: '../../.bashrc' }],
      ['desktop:saveAttachment', { ...valid, name: '/etc/passwd' }],
      ['desktop:saveAttachment', { ...valid, name: 'C:\\Windows\\x.dll' }],
      ['desktop:saveAttachment', { ...valid, name: '..' }],
      ['desktop:saveAttachment', { ...valid, name: 'a\u0000b' }],
      ['desktop:saveAttachment', { ...valid, name: '' }],
      ['desktop:saveAttachment', { ...valid, name: 'x'.repeat(256) }],
      ['desktop:saveAttachment', { ...valid, attachmentId: '../etc/passwd' }],
      ['desktop:saveAttachment', { ...valid, messageId: -1 }],
      ['desktop:saveAttachment', { ...valid, messageId: '7' }],
      // The page may not name where to write.
      ['desktop:saveAttachment', { ...valid, path: '/tmp/x' }],
      ['desktop:saveAttachment', { ...valid, defaultPath: '/tmp/x' }],
      ['desktop:saveAttachment', null],
      ['desktop:showSaved', { saveId: '/home/alice/report.pdf' }],
      ['desktop:showSaved', { saveId: 'A'.repeat(32) }],
      ['desktop:showSaved', { saveId: 'a'.repeat(32), path: '/' }],
      ['desktop:openExternal', { url: 'https://example.org' }],
      ['attachments:read', { messageId: 1, attachmentId: ATT, offset: 0 }],
      [42, {}],
    ];
    for (const [channel, input] of bad) {
      const r = await dispatchDesktop(handlers, channel, input);
      expect(r.code, JSON.stringify([channel, input])).toBe(-29);
    }
    expect(seen).toEqual([]);
  });

  it('says which field is wrong, and a handler that throws is Failed without the input in the message', async () => {
    const { handlers } = recording();
    const r = await dispatchDesktop(handlers, 'desktop:saveAttachment', { ...valid, name: '../secret-name' });
    expect(r).toMatchObject({ code: -29 });
    expect(r.code !== 0 && r.message).toMatch(/^Invalid input for desktop:saveAttachment: name: /);
    const throwing: DesktopHandlers = { ...handlers, 'desktop:showSaved': () => Promise.reject(new TypeError('/home/alice/secret.txt')) };
    const failed = await dispatchDesktop(throwing, 'desktop:showSaved', { saveId: 'b'.repeat(32) });
    expect(failed).toEqual({ code: -1, message: 'Internal error (TypeError) in desktop:showSaved.' });
  });
});

describe('buildDesktopApi', () => {
  it('has one named function per desktop channel, each invoking its channel', async () => {
    const calls: unknown[] = [];
    const api = buildDesktopApi(async (channel, input) => {
      calls.push([channel, input]);
      return { code: 0, value: {} };
    });
    expect(Object.keys(api).sort()).toEqual(['saveAttachment', 'showSaved']);
    expect(desktopChannels.sort()).toEqual(Object.keys(desktopContract).sort());
    await api.saveAttachment(valid);
    await api.showSaved({ saveId: 'c'.repeat(32) });
    expect(calls).toEqual([
      ['desktop:saveAttachment', valid],
      ['desktop:showSaved', { saveId: 'c'.repeat(32) }],
    ]);
  });
});

describe('checkSavePath', () => {
  it('takes an absolute path to a file, and nothing else', () => {
    expect(checkSavePath('/home/alice/Downloads/report.pdf')).toBe('/home/alice/Downloads/report.pdf');
    expect(checkSavePath('/home/alice/Downloads/../report.pdf')).toBe('/home/alice/report.pdf');
    for (const bad of ['', 'report.pdf', './report.pdf', '/home/alice/', '/home/alice/..', '/home/alice/.', '/tmp/a\u0000b', '/' + 'x'.repeat(5000), null, undefined, 7, ['/tmp/x']]) {
      expect(checkSavePath(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('on Windows too', () => {
    expect(checkSavePath('C:\\Users\\alice\\Downloads\\report.pdf', path.win32)).toBe('C:\\Users\\alice\\Downloads\\report.pdf');
    expect(checkSavePath('\\\\server\\share\\report.pdf', path.win32)).toBe('\\\\server\\share\\report.pdf');
    for (const bad of ['report.pdf', 'C:report.pdf', 'C:\\Users\\alice\\', 'C:\\Users\\..']) expect(checkSavePath(bad, path.win32), bad).toBeNull();
  });
});

describe('SavedFiles', () => {
  it('names files by random ids the page cannot guess, and forgets the oldest beyond its bound', () => {
    const saved = new SavedFiles(2);
    const a = saved.remember('/tmp/a');
    const b = saved.remember('/tmp/b');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
    expect(saved.pathOf(a)).toBe('/tmp/a');
    const c = saved.remember('/tmp/c');
    expect(saved.pathOf(a)).toBeNull();
    expect([saved.pathOf(b), saved.pathOf(c)]).toEqual(['/tmp/b', '/tmp/c']);
    expect(desktopContract['desktop:showSaved'].input.safeParse({ saveId: c }).success).toBe(true);
  });
});

describe('saving and showing without an engine call', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-desktop-calls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const noRead = async () => {
    throw new Error('the engine must not be asked');
  };

  it('a cancelled dialog saves nothing and asks the engine for nothing', async () => {
    const suggested: string[] = [];
    const r = await saveAttachment({ read: noRead, saved: new SavedFiles(), choosePath: async (name) => (suggested.push(name), null) }, valid);
    expect(r).toEqual({ code: 0, value: { saved: false } });
    expect(suggested).toEqual(['report.pdf']);
  });

  it('a dialog answer that is not a file path is refused before anything is written', async () => {
    const r = await saveAttachment({ read: noRead, saved: new SavedFiles(), choosePath: async () => 'relative/report.pdf' }, valid);
    expect(r).toMatchObject({ code: -29 });
  });

  it('Open folder only for a file this process saved, and only while it is there', async () => {
    const saved = new SavedFiles();
    const shown: string[] = [];
    const deps = { saved, reveal: (file: string) => void shown.push(file) };
    expect(await showSaved(deps, { saveId: 'd'.repeat(32) })).toMatchObject({ code: -404 });
    const file = path.join(dir, 'kept.txt');
    writeFileSync(file, 'x');
    const id = saved.remember(file);
    expect(await showSaved(deps, { saveId: id })).toEqual({ code: 0, value: { shown: true } });
    expect(shown).toEqual([file]);
    rmSync(file);
    const gone = await showSaved(deps, { saveId: id });
    expect(gone).toMatchObject({ code: -404 });
    expect(gone.code !== 0 && gone.message).toBe(`kept.txt is no longer in ${dir}: it was moved or deleted.`);
    expect(shown).toHaveLength(1);
  });
});

describe('fsFailure', () => {
  it('names the folder and the reason, for the page to say', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: open '/x/.sealpost-1.part'`), { code });
    expect(fsFailure(err('ENOSPC'), '/media/usb')).toEqual({ code: -1, message: 'Cannot save in /media/usb: the disk is full.', details: { kind: 'fs', reason: 'the disk is full' } });
    expect(fsFailure(err('EACCES'), '/root')).toMatchObject({ details: { reason: 'permission denied' } });
    expect(fsFailure(err('EWHATEVER'), '/x')).toMatchObject({ details: { reason: 'the file system refused (EWHATEVER)' } });
  });
});
