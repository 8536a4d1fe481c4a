/**
 * Copies text to the clipboard: the async Clipboard API where the page may
 * use it, else the older copy command on a hidden, read-only field (Electron
 * windows deny permission requests, the browser allows the API only in focus).
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'sr-only';
    document.body.append(area);
    area.select();
    try {
      return document.execCommand('copy');
    } finally {
      area.remove();
    }
  }
}
