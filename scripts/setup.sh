#!/usr/bin/env bash
# Set-up for a fresh Debian/Ubuntu machine: system packages (when missing), npm packages, the native addon.
# Idempotent: a second run installs nothing new and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# Debian packages the project needs:
#   librtaudio-dev pkg-config cmake g++ make   build the native audio addon (RtAudio: ALSA, PulseAudio, JACK)
#   jackd2                                       headless JACK server (dummy backend) for the audio tests
#   chromium                                     the browser the end-to-end tests drive (never a downloaded one)
#   fluidsynth timgm6mb-soundfont                the General MIDI SoundFont, and the synth benchmarks compare with
#   libfluidsynth-dev                            the FluidSynth library the synth addon (native/synth) links
#   sox                                          measuring and converting audio in tests and benchmarks
#   pulseaudio pulseaudio-utils libasound2-plugins  a private PulseAudio null sink for the rtaudio pulse/ALSA tests
#   musescore-general-soundfont-small            a real .sf3 (Ogg Vorbis samples) for the synth's .sf3 tests
APT_PACKAGES=(librtaudio-dev pkg-config cmake g++ make jackd2 chromium fluidsynth libfluidsynth-dev timgm6mb-soundfont sox musescore-general-soundfont-small pulseaudio pulseaudio-utils libasound2-plugins)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
  done
else
  say "dpkg is not available: install these with your system's package manager: ${APT_PACKAGES[*]}"
fi

if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if ! command -v sudo >/dev/null 2>&1; then
        say "these Debian packages are missing: ${missing[*]}"
        say "install them as root (apt-get install ${missing[*]}) or install sudo, then run set-up again"
        exit 1
      fi
      SUDO="sudo"
    fi
    say "installing Debian packages: ${missing[*]}"
    echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections
    $SUDO apt-get update -qq
    # env inside sudo: sudo drops the caller's environment, and a prompt would hang a CI job.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    say "apt-get is not available. Install these packages (or your system's equivalents) and run set-up again:"
    say "  ${missing[*]}"
    exit 1
  fi
else
  say "Debian packages present"
fi

# npm packages. The electron package's own postinstall downloads its binary; we skip it here and try the
# download separately, so a machine that cannot reach the download still sets up (without the desktop shell).
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/.lc-lock-sum ] && [ "$(cat node_modules/.lc-lock-sum)" = "$lock_sum" ]; then
  say "npm packages up to date"
else
  # `npm install --no-save` installs exactly the locked versions. Not `npm ci`: some registry mirrors lack the
  # optional packages of other platforms (e.g. @biomejs/cli-darwin-arm64), so the lock cannot list them and
  # `npm ci` refuses it as out of sync.
  say "installing npm packages (locked versions)"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --no-save --no-audit --no-fund
  echo "$lock_sum" > node_modules/.lc-lock-sum
fi

if [ -f node_modules/electron/path.txt ]; then
  say "desktop shell: Electron binary present"
elif [ "${LC_SKIP_ELECTRON_DOWNLOAD:-}" = "1" ]; then
  say "desktop shell unavailable on this machine (LC_SKIP_ELECTRON_DOWNLOAD=1); the CLI and web mode work"
elif timeout 180 node node_modules/electron/install.js >/dev/null 2>&1; then
  say "desktop shell: Electron binary downloaded"
else
  say "desktop shell unavailable on this machine (the Electron binary could not be downloaded); the CLI and web mode work"
fi

if [ -f scripts/build-native.mjs ]; then
  say "building the native addons (audio; FluidSynth synth)"
  node scripts/build-native.mjs
fi
say "building the demo project's library (assets/demo)"
node --import tsx assets/demo/make-demo.ts
say "done"
