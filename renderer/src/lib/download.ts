/**
 * Saves bytes or text as a file the user chooses where to keep: an object URL
 * and a download link, which works the same in Electron (a save dialog) and
 * in browser mode. The URL is revoked right after, so the data does not stay
 * reachable from the page.
 */
export function saveFile(name: string, content: Uint8Array | string | Blob, mime = 'application/octet-stream'): void {
  const blob = content instanceof Blob ? content : new Blob([typeof content === 'string' ? content : new Uint8Array(content)], { type: mime });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
