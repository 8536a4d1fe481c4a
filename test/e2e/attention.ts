/**
 * Headless Chromium has no user whose attention moves: every page is visible and
 * focused. ATTENTION_AND_NOTICES (an init script) stands in for the user looking
 * away (`window.__setAway(true)`: the page hidden and unfocused) and records each
 * Web Notification the page shows (`window.__notices`, with `closed` once the app
 * withdraws it) while still making it.
 */
export const ATTENTION_AND_NOTICES = `(() => {
  let away = false;
  window.__notices = [];
  window.__setAway = (value) => { away = value; document.dispatchEvent(new Event('visibilitychange')); };
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (away ? 'hidden' : 'visible') });
  Document.prototype.hasFocus = () => !away;
  const Real = window.Notification;
  window.Notification = new Proxy(Real, {
    construct(target, args) {
      const record = { title: args[0], body: args[1] && args[1].body, closed: false };
      window.__notices.push(record);
      const notice = Reflect.construct(target, args);
      const close = notice.close.bind(notice);
      notice.close = () => { record.closed = true; close(); };
      return notice;
    },
  });
})()`;

type Notices = { __notices: Array<{ title: string; body: string; closed: boolean }> };

/** Runs in the page (a function, not a string: the app's CSP allows no eval): at least `count` notices were shown. */
export const noticesShown = (count: number) => (globalThis as unknown as Notices).__notices.length >= count;

/** Runs in the page: the notice at `index` was withdrawn. */
export const noticeClosed = (index: number) => (globalThis as unknown as Notices).__notices[index]?.closed === true;
