// The console's phone: the socket to /api/phone (call pop-ups), and, when the operator takes
// calls in the page, the call itself over WebRTC. The server offers (one message, its host
// candidates in it); the page answers with the microphone, its candidates gathered first.
// Keys go as RFC 4733 events through the audio sender. The caller's audio is played and
// measured (level and strongest frequency, on the meter's data-level and data-hz).

export class Phone {
  // `on` holds the page's handlers: ready(seat), offer(leg, call, inPage), connected(leg),
  // ended(leg, why), error(message), closed().
  constructor(on) {
    this.on = on;
    this.ws = null;
    this.pc = null;
    this.offers = new Map();
    this.leg = null;
    this.audio = null;
  }

  open(inPage) {
    this.close();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = inPage ? "?phone=browser" : "";
    const ws = new WebSocket(`${scheme}//${location.host}/api/phone${query}`);
    this.ws = ws;
    ws.onmessage = (e) => this.message(JSON.parse(e.data));
    ws.onclose = () => {
      if (this.ws === ws) {
        this.ws = null;
        this.stopMedia();
        this.on.closed();
      }
    };
  }

  close() {
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
    this.stopMedia();
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  message(m) {
    switch (m.type) {
      case "ready": return this.on.ready(m.seat);
      case "offer":
        this.offers.set(m.leg, m.sdp ?? null);
        return this.on.offer(m.leg, m.call, Boolean(m.sdp));
      case "connected": return this.on.connected(m.leg);
      case "cancel":
      case "bye":
        this.offers.delete(m.leg);
        if (this.leg === m.leg) this.stopMedia();
        return this.on.ended(m.leg, m.type);
      case "replaced": return this.on.error("本座席已在另一个页面打开电话");
      case "error": return this.on.error(m.message);
    }
  }

  // Answers the offered call in the page: microphone, answer, candidates, then the socket.
  async answer(leg) {
    const sdp = this.offers.get(leg);
    if (!sdp) throw new Error("这个来电不在本页面振铃");
    // Made while the operator's click still counts as a gesture: a browser may otherwise keep
    // the context suspended, and the caller's level would stay at nothing.
    this.ctx = new AudioContext();
    this.ctx.resume?.().catch(() => {});
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    this.leg = leg;
    pc.ontrack = (e) => this.play(e.streams[0] ?? new MediaStream([e.track]));
    await pc.setRemoteDescription({ type: "offer", sdp });
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    this.mic = mic;
    for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    this.send({ type: "answer", leg, sdp: pc.localDescription.sdp });
  }

  decline(leg) {
    this.send({ type: "decline", leg });
  }

  hangUp(leg) {
    this.send({ type: "hangup", leg });
    if (this.leg === leg) this.stopMedia();
  }

  // A key from the pad, as an RFC 4733 event.
  dtmf(key) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === "audio");
    if (sender?.dtmf?.canInsertDTMF) sender.dtmf.insertDTMF(key, 120, 70);
  }

  play(stream) {
    const el = document.getElementById("remote-audio");
    el.srcObject = stream;
    el.play?.().catch(() => {});
    const ctx = this.ctx ?? new AudioContext();
    this.ctx = null;
    ctx.resume?.().catch(() => {});
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const wave = new Float32Array(analyser.fftSize);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const meter = document.getElementById("meter");
    const bar = document.getElementById("meter-bar");
    const tick = async () => {
      if (this.audio?.ctx !== ctx) return;
      if (ctx.state !== "running") {
        // No audio output to run the analyser on (a headless or soundless machine): the
        // level comes from the receiver's statistics instead, without a frequency.
        const level = await receivedLevel(this.pc);
        meter.dataset.level = level.toFixed(4);
        bar.style.width = `${Math.min(100, level * 300)}%`;
        setTimeout(tick, 100);
        return;
      }
      analyser.getFloatTimeDomainData(wave);
      analyser.getFloatFrequencyData(bins);
      let sum = 0;
      for (const v of wave) sum += v * v;
      const level = Math.sqrt(sum / wave.length);
      let top = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i] > bins[top]) top = i;
      meter.dataset.level = level.toFixed(4);
      meter.dataset.hz = String(Math.round((top * ctx.sampleRate) / analyser.fftSize));
      bar.style.width = `${Math.min(100, level * 300)}%`;
      setTimeout(tick, 100);
    };
    this.audio = { ctx };
    tick();
  }

  stopMedia() {
    this.pc?.close();
    this.pc = null;
    this.leg = null;
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.audio?.ctx.close();
    this.audio = null;
  }
}

// The audio level of what the page receives (0 to 1), from the receiver's statistics.
async function receivedLevel(pc) {
  let level = 0;
  const stats = await pc?.getStats().catch(() => null);
  stats?.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "audio" && typeof r.audioLevel === "number") level = r.audioLevel;
  });
  return level;
}

// Resolves once the page's candidates are in its description (at most 2 s: host candidates
// come at once).
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 2000);
  });
}
