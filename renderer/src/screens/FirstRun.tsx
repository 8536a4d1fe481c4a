/**
 * First run: choose a PIN (or knowingly skip it), make the keys on this
 * device (with progress: RSA generation takes a few seconds), connect to a key
 * service or stay local, then see the safety number.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { PinField } from '../components/PinField';
import { SafetyNumber } from '../components/SafetyNumber';
import type { Output } from '../../../shared/contract';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { Managed } from '../components/Managed';
import { usePolicySetting } from '../lib/policy';
import { ConnectKeyService } from './ConnectKeyService';
import { RestoreOnDevice } from './Recovery';
import { IdentityFileImport } from './IdentityFile';
import { LinkToExistingDevice } from './LinkDevice';

type Step = 'pin' | 'skip-warning' | 'creating' | 'connect' | 'restore' | 'import' | 'link' | 'done';

const CREATE_STAGES = ['Making your recovery seed', 'Deriving your signing identity', 'Generating your encryption key pair', 'Sealing the keys with your PIN'];

type KeychainBackend = Output<'engine:status'>['keychainBackend'];

/** Where the keys will be kept, as the status reports it: no Secret Service means a PIN-sealed file. */
const KEPT_IN: Record<KeychainBackend, string> = {
  'secret-service': 'keeps them in your system keychain',
  file: 'keeps them in a file sealed with your PIN (no system keychain was found)',
};

export function FirstRun({
  keychainBackend,
  wiped = false,
  onDone,
  onChange,
}: {
  keychainBackend: KeychainBackend;
  /** The keys of this profile were erased after too many wrong PINs: say so, and point to the ways back. */
  wiped?: boolean;
  onDone: () => void;
  onChange: () => void;
}) {
  const [step, setStep] = useState<Step>('pin');
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<UiError | null>(null);
  const [stage, setStage] = useState(0);
  const [safety, setSafety] = useState<string | null>(null);
  const [pinChosen, setPinChosen] = useState('');
  const requirePin = usePolicySetting<boolean>('requirePin');
  const pinRequired = requirePin.locked && requirePin.value === true;
  const shortest = usePolicySetting<number>('pinMinLength').value ?? 4;

  // The engine makes the keys in one call; the stages advance on a timer so the
  // wait reads as progress. They never claim "done": that is the call returning.
  useEffect(() => {
    if (step !== 'creating') return;
    setStage(0);
    const timer = setInterval(() => setStage((s) => Math.min(s + 1, CREATE_STAGES.length - 1)), 900);
    return () => clearInterval(timer);
  }, [step]);

  async function create(chosen: string) {
    setError(null);
    setStep('creating');
    const r = await call(sealpost.identity.create({ pin: chosen }));
    if (!r.ok) {
      setError(r.error);
      setStep('pin');
      return;
    }
    setPinChosen(chosen);
    setSafety(r.value.safetyNumber);
    setStep('connect');
    onChange();
  }

  /** After a restore or a link: the identity is installed (and registered when a server key was given). */
  function showIdentity() {
    onChange();
    void call(sealpost.identity.get({})).then((r) => {
      if (r.ok) setSafety(r.value.safetyNumber);
      setStep('done');
    });
  }

  function submitPin(event: FormEvent) {
    event.preventDefault();
    if (!new RegExp(`^[0-9]{${shortest},12}$`).test(pin)) {
      setError({ text: `A PIN is ${shortest} to 12 digits.`, details: 'InvalidPin (-101): checked before sending' });
      return;
    }
    if (pin !== confirm) {
      setError({ text: 'The two PINs are not the same. Type them again.', details: 'InvalidPin (-101): confirmation differs' });
      return;
    }
    void create(pin);
  }

  if (step === 'creating') {
    return (
      <section className="card narrow" aria-live="polite">
        <h2>Making your keys</h2>
        <p>{CREATE_STAGES[stage]}…</p>
        <progress aria-label="Making your keys" max={CREATE_STAGES.length} value={stage + 0.5} />
        <p className="muted small">Your keys are made on this device. Nothing readable leaves it.</p>
      </section>
    );
  }

  if (step === 'restore') {
    return (
      <RestoreOnDevice
        onCancel={() => setStep('pin')}
        onDone={() => {
          onChange();
          void call(sealpost.identity.get({})).then((r) => {
            if (r.ok) setSafety(r.value.safetyNumber);
            setStep('done');
          });
        }}
      />
    );
  }

  if (step === 'link') {
    return <LinkToExistingDevice onCancel={() => setStep('pin')} onDone={showIdentity} />;
  }

  if (step === 'import') {
    return (
      <IdentityFileImport
        onCancel={() => setStep('pin')}
        onDone={(chosen) => {
          // Same identity: connecting with the same user name brings its items and grants.
          onChange();
          setPinChosen(chosen);
          void call(sealpost.identity.get({})).then((r) => {
            if (r.ok) setSafety(r.value.safetyNumber);
            setStep('connect');
          });
        }}
      />
    );
  }

  if (step === 'connect') {
    return <ConnectKeyService pin={pinChosen} onDone={() => setStep('done')} />;
  }

  if (step === 'done' && safety) {
    return (
      <section className="card narrow">
        <h2>Your identity is ready</h2>
        <p>This is your safety number. The people you write to see the same number for you in Sealpost; comparing it (in person or on a call) proves nobody is in between.</p>
        <SafetyNumber value={safety} testId="safety-number" />
        {pinChosen === '0' && <p className="warning">You chose no PIN. You can set one any time in Settings.</p>}
        <button type="button" onClick={onDone} autoFocus>
          Open Sealpost
        </button>
      </section>
    );
  }

  if (step === 'skip-warning') {
    return (
      <section className="card narrow" role="alertdialog" aria-labelledby="skip-title" aria-describedby="skip-text">
        <h2 id="skip-title">Use Sealpost without a PIN?</h2>
        <p id="skip-text" className="warning">
          Without a PIN, anyone who can use this computer account — or copy its files — can open your keys, read your vault and send messages as you. {' '}
          {keychainBackend === 'secret-service' ? 'The keys are still kept in your system keychain, but nothing else protects them.' : 'The keys are kept in a file in your profile, and nothing else protects them.'}
        </p>
        <div className="row">
          <button type="button" onClick={() => setStep('pin')} autoFocus>
            Go back and choose a PIN
          </button>
          <button type="button" className="danger" onClick={() => void create('0')}>
            Continue without a PIN
          </button>
        </div>
      </section>
    );
  }

  return (
    <form className="card narrow" onSubmit={submitPin} aria-labelledby="firstrun-title">
      <h2 id="firstrun-title">Create your identity</h2>
      {wiped && (
        <p className="warning" role="alert" data-testid="keys-erased">
          The keys on this device were erased: 10 wrong PINs were entered in a row. Bring your identity back with “Restore on this device…” (your recovery words
          or shares), “Import an identity file…” or “Link to an existing device…” below. A new identity starts over: what was sealed to the old keys cannot be opened
          with it.
        </p>
      )}
      <p>Sealpost makes your keys on this device and {KEPT_IN[keychainBackend]}. Choose a PIN of {shortest} to 12 digits: it is asked when you unlock Sealpost.</p>
      {pinRequired && (
        <p className="small" data-testid="pin-required-managed">
          <Managed /> A PIN is required on this computer.
        </p>
      )}
      <PinField label="PIN" value={pin} onChange={setPin} autoComplete="new-password" autoFocus describedBy="pin-help" />
      <PinField label="Repeat the PIN" value={confirm} onChange={setConfirm} autoComplete="new-password" />
      <p id="pin-help" className="muted small">
        10 wrong PINs in a row erase the keys on this device (after a growing wait from the 5th). Keep your recovery words safe.
      </p>
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={!pin}>
          Create identity
        </button>
        {!pinRequired && (
          <button type="button" className="link" onClick={() => setStep('skip-warning')}>
            Skip the PIN…
          </button>
        )}
        <button type="button" className="link" onClick={() => setStep('restore')}>
          Restore on this device…
        </button>
        <button type="button" className="link" onClick={() => setStep('import')}>
          Import an identity file…
        </button>
        <button type="button" className="link" onClick={() => setStep('link')}>
          Link to an existing device…
        </button>
      </div>
    </form>
  );
}
