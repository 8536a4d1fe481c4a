#!/usr/bin/env bash
# Runs a command with a Secret Service available: a private D-Bus session and
# an unlocked gnome-keyring, so the keychain tests talk to a real keyring.
# Without gnome-keyring installed it runs the command as is (the keychain
# tests then fail under CI=true, and say why).
set -euo pipefail
if [ -z "${SEALPOST_KEYRING_READY:-}" ] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export SEALPOST_KEYRING_READY=1
  exec dbus-run-session -- "$0" "$@"
fi
if [ -n "${SEALPOST_KEYRING_READY:-}" ] && [ -z "${GNOME_KEYRING_CONTROL:-}" ]; then
  # A throwaway keyring home so tests never touch a developer's own keyring.
  export XDG_DATA_HOME="${XDG_DATA_HOME_FOR_TESTS:-$(mktemp -d)}"
  eval "$(echo -n pass | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
  export GNOME_KEYRING_CONTROL
fi
exec "$@"
