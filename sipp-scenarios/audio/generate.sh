#!/usr/bin/env bash
# Regenerates the caller's speech for the SIPp scenarios: Mandarin speech from espeak-ng,
# 8 kHz mono G.711 mu-law in a WAV file (SIPp's rtp_stream sends its payload as PCMU).
# Needs: espeak-ng sox (Debian packages).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
espeak-ng -v cmn -s 150 -w "$tmp/speech.wav" "你好，我想咨询一下社保卡补办需要什么材料。"
sox "$tmp/speech.wav" -r 8000 -c 1 -e mu-law -b 8 caller-pcmu.wav
echo "wrote $(pwd)/caller-pcmu.wav"
