/**
 * The otpauth:// URI as a QR code for the authenticator app to scan. Drawn as one
 * SVG path from the qrcode package's module matrix (as the safety-number QR is):
 * no canvas, no data URL, dark-on-light in both colour schemes so phones read it.
 * The URI holds the secret: it lives only in this component's props while shown.
 */
import { useMemo } from 'react';
import QRCode from 'qrcode';

export function TotpQr({ uri }: { uri: string }) {
  const { size, path } = useMemo(() => {
    const qr = QRCode.create(uri, { errorCorrectionLevel: 'M' });
    const n = qr.modules.size;
    let d = '';
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (qr.modules.data[y * n + x]) d += `M${x} ${y}h1v1h-1z`;
    return { size: n, path: d };
  }, [uri]);
  const quiet = 4;
  const side = size + 2 * quiet;
  return (
    <svg className="totp-qr" role="img" aria-label="QR code for your authenticator app" viewBox={`${-quiet} ${-quiet} ${side} ${side}`} shapeRendering="crispEdges" data-testid="totp-qr">
      <rect x={-quiet} y={-quiet} width={side} height={side} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  );
}
