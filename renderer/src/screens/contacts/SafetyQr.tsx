/**
 * The safety number as a QR code, for comparing in person: one scans the
 * other's screen (any QR reader shows the 60 digits). Drawn as one SVG path
 * from the qrcode package's module matrix: no canvas, no data URL, sharp at
 * any zoom, and dark-on-light in both colour schemes (readers need the contrast).
 */
import { useMemo } from 'react';
import QRCode from 'qrcode';

export function SafetyQr({ value, label }: { value: string; label: string }) {
  const digits = value.replace(/\D/g, '');
  const { size, path } = useMemo(() => {
    const qr = QRCode.create(digits, { errorCorrectionLevel: 'M' });
    const n = qr.modules.size;
    let d = '';
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (qr.modules.data[y * n + x]) d += `M${x} ${y}h1v1h-1z`;
    return { size: n, path: d };
  }, [digits]);
  const quiet = 4;
  return (
    <svg className="safety-qr" role="img" aria-label={label} viewBox={`${-quiet} ${-quiet} ${size + 2 * quiet} ${size + 2 * quiet}`} shapeRendering="crispEdges" data-testid="safety-qr" data-qr-text={digits}>
      <rect x={-quiet} y={-quiet} width={size + 2 * quiet} height={size + 2 * quiet} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  );
}
