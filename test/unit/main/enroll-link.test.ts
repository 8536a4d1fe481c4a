/**
 * sealpost://enroll links opened from outside the app (electron/main/enroll-link.ts):
 * found in the command lines Windows and Linux start the app (or its second
 * instance) with, validated with parseEnrollLink, turned into the 'enroll-link'
 * engine event with the code in canonical form, held until the page can take it;
 * refusals never repeat the code. Plus the packaging and shell wiring that make
 * the OS send the links (electron-builder protocols, the main process's events).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineEvent } from '../../../shared/contract-events.js';
import { enrollLink } from '../../../shared/enroll-wire.js';
import { enrollLinkEvent, findLinkArgument, MAX_LINK_LENGTH, PendingEnrollLink } from '../../../electron/main/enroll-link.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CODE = 'K7QX2MZP4DABCDEFGHIJ';
const link = (over: Partial<{ server: string; appId: string; username: string; code: string }> = {}) =>
  enrollLink({ server: 'https://keys.example.org', appId: 'app_corp', username: 'alice', code: 'k7qx2-mzp4d-abcde-fghij', ...over });

describe('findLinkArgument', () => {
  it('finds the link among what Windows and Linux pass a first or second instance', () => {
    const l = link();
    expect(findLinkArgument(['C:\\Program Files\\Sealpost\\Sealpost.exe', '--allow-file-access-from-files', l])).toBe(l);
    expect(findLinkArgument(['/opt/Sealpost/sealpost', '--no-sandbox', l.replace('sealpost://', 'SEALPOST://')])).toBe(l.replace('sealpost://', 'SEALPOST://'));
    expect(findLinkArgument(['/usr/bin/electron', '/home/alice/sealpost'])).toBeNull();
    expect(findLinkArgument(['app', 'https://keys.example.org/?sealpost://enroll'])).toBeNull();
  });
});

describe('enrollLinkEvent', () => {
  it('turns a valid link into the engine event, the code in canonical form', () => {
    const r = enrollLinkEvent(link());
    expect(r).toEqual({ ok: true, event: { type: 'enroll-link', server: 'https://keys.example.org', appId: 'app_corp', username: 'alice', code: CODE } });
    if (r.ok) expect(EngineEvent.safeParse(r.event).success).toBe(true);
    const noUser = enrollLinkEvent(enrollLink({ server: 'http://127.0.0.1:8787', appId: 'app_corp', code: CODE }));
    expect(noUser.ok && noUser.event).toEqual({ type: 'enroll-link', server: 'http://127.0.0.1:8787', appId: 'app_corp', code: CODE });
  });

  it('refuses what is not an enrollment link, naming the problem and never the code', () => {
    const cases: Array<[string, RegExp]> = [
      [link().replace('sealpost://enroll', 'sealpost://other'), /starts with sealpost:\/\/enroll/],
      [link({ server: 'file:///etc/passwd' }), /no http\(s\) server/],
      [link({ appId: 'bad app!' }), /no valid app/],
      [link({ code: 'short' }), /no valid code/],
      [`${link()}&next=https://evil.example`, /unknown part "next"/],
      [`${link()}&pad=${'x'.repeat(MAX_LINK_LENGTH)}`, /longer than/],
    ];
    for (const [raw, message] of cases) {
      const r = enrollLinkEvent(raw);
      expect(r.ok, raw.slice(0, 80)).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(message);
        expect(r.error.toUpperCase().replace(/-/g, '')).not.toContain(CODE);
      }
    }
  });
});

describe('PendingEnrollLink', () => {
  it('holds the last valid link until the page takes it, once; an invalid one does not replace it', () => {
    const pending = new PendingEnrollLink();
    expect(pending.take()).toBeNull();
    expect(pending.offer(link({ username: 'alice' })).ok).toBe(true);
    expect(pending.offer(link({ username: 'bob' })).ok).toBe(true);
    expect(pending.offer('sealpost://enroll?code=nonsense').ok).toBe(false);
    expect(pending.take()).toMatchObject({ type: 'enroll-link', username: 'bob' });
    expect(pending.take()).toBeNull();
  });
});

describe('the OS hands sealpost:// links to the app', () => {
  it('is declared in electron-builder.yml and wired in the main process', () => {
    const config = readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8');
    expect(config).toMatch(/^protocols:\n {2}- name: [^\n]+\n {4}schemes: \[sealpost\]$/m);
    const main = readFileSync(path.join(ROOT, 'electron/main/index.ts'), 'utf8');
    expect(main).toContain('app.setAsDefaultProtocolClient(ENROLL_SCHEME');
    expect(main).toContain("app.on('open-url'");
    expect(main).toMatch(/app\.on\('second-instance', \(_event, argv\)/);
    expect(main).toContain('requestSingleInstanceLock()');
  });
});
