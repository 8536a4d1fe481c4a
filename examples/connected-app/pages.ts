/**
 * The example application's HTML: plain server-rendered pages, no script (the
 * waiting pages refresh themselves once a second with a meta refresh).
 * @module
 */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string, refresh = false): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Acme Notes</title>${refresh ? '<meta http-equiv="refresh" content="1">' : ''}
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code,pre{background:#f3f3f3;padding:.2rem .4rem;word-break:break-all;white-space:pre-wrap}button{font-size:1rem;padding:.4rem 1rem}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

export function homePage(error?: string): string {
  return page(
    'Acme Notes',
    `${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/sign-in">
  <label>Your Sealpost user name <input name="username" autocomplete="username"></label>
  <p><small>Leave it empty to sign in with a code instead.</small></p>
  <button type="submit">Sign in with Sealpost</button>
</form>`,
  );
}

export function waitPage(what: string, userCode: string | null): string {
  return page(
    'Approve on your desktop',
    `<p id="waiting">Acme Notes asked for ${esc(what)}. Open Sealpost on your desktop and approve the request.</p>
${userCode ? `<p>Enter this code in Sealpost: <strong id="user-code">${esc(userCode)}</strong></p>` : ''}
<p><small>This page refreshes until you decide (the request expires after 2 minutes).</small></p>`,
    true,
  );
}

export function endedPage(state: 'denied' | 'expired' | 'failed', detail?: string): string {
  const text = state === 'denied' ? 'The request was denied on the desktop.' : state === 'expired' ? 'The request expired before a decision.' : `The approval could not be verified: ${detail ?? ''}`;
  return page('Not signed in', `<p id="ended" data-state="${state}">${esc(text)}</p><p><a href="/">Start again</a></p>`);
}

export function notesPage(o: { username: string; did: string; keyFingerprint: string | null; sealed?: { note: string; ciphertext: string; reopened: string } }): string {
  return page(
    'Your notes',
    `<p id="signed-in">Signed in as <strong>${esc(o.username)}</strong> (<code>${esc(o.did)}</code>).</p>
${
  o.keyFingerprint
    ? `<p id="key">Your personal key for Acme Notes: SHA-256 <code id="key-fingerprint">${esc(o.keyFingerprint)}</code></p>
<form method="post" action="/encrypt"><label>Note <input name="note"></label> <button type="submit">Encrypt with my key</button></form>`
    : `<form method="post" action="/key"><button type="submit">Ask for my key</button></form>`
}
${o.sealed ? `<h2>Encrypted (AES-GCM)</h2><pre id="ciphertext">${esc(o.sealed.ciphertext)}</pre><p>Decrypted again: <span id="reopened">${esc(o.sealed.reopened)}</span></p>` : ''}
<form method="post" action="/sign-out"><button type="submit">Sign out</button></form>`,
  );
}
