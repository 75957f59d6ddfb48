import {
  openPreferredMedia,
  readDeviceChoices,
  rememberDeviceChoice,
  type DeviceChoices,
  type DeviceKind,
} from './device-preferences.ts';
import { deviceStatusOf, meterLevel, type DeviceStatus } from './device-status.ts';

/**
 * The pre-call check's devices: camera preview, microphone level (a WebAudio AnalyserNode on
 * the microphone), the camera/microphone/speaker pickers whose choices the call uses, and a
 * speaker test tone played through the chosen output. Its `$state` drives the page.
 * Browser-only: the page imports it dynamically.
 */

export interface DeviceOption {
  deviceId: string;
  /** Empty until the browser has been allowed to use devices. */
  label: string;
}

export type SpeakerTestState = 'idle' | 'playing' | 'done' | 'failed';

/** What the call asks for too (see conference-room.svelte.ts), so the preview looks the same. */
const CAMERA: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };
const MICROPHONE: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** How far the meter falls per frame: speech reads as a level rather than a flicker. */
const METER_FALL = 0.04;
const TEST_TONE_SECONDS = 1.2;

export class DeviceCheck {
  camera = $state<DeviceStatus>('starting');
  microphone = $state<DeviceStatus>('starting');
  cameras = $state<DeviceOption[]>([]);
  microphones = $state<DeviceOption[]>([]);
  speakers = $state<DeviceOption[]>([]);
  /** The device in use (camera, microphone) or chosen (speaker) of each kind. */
  chosen = $state<DeviceChoices>({});
  videoTrack = $state.raw<MediaStreamTrack | null>(null);
  /** Microphone level, 0–1. */
  level = $state(0);
  /** The browser keeps audio processing off until the user clicks or types on the page. */
  meterWaitsForUser = $state(false);
  speakerTest = $state<SpeakerTestState>('idle');
  /** Whether this browser can send sound to a chosen output (HTMLMediaElement.setSinkId). */
  readonly canChooseSpeaker = 'setSinkId' in HTMLMediaElement.prototype;

  private audioTrack: MediaStreamTrack | null = null;
  private meter: { context: AudioContext; frame: number } | null = null;
  private stopped = false;
  private readonly onDeviceChange = () => void this.listDevices();
  private readonly resumeMeter = () => void this.meter?.context.resume();

  async start(): Promise<void> {
    navigator.mediaDevices.addEventListener('devicechange', this.onDeviceChange);
    document.addEventListener('pointerdown', this.resumeMeter);
    document.addEventListener('keydown', this.resumeMeter);
    this.chosen = { speaker: readDeviceChoices().speaker };
    try {
      const stream = await openPreferredMedia({ audio: MICROPHONE, video: CAMERA });
      this.useTrack(stream.getVideoTracks()[0] ?? null, 'camera');
      this.useTrack(stream.getAudioTracks()[0] ?? null, 'microphone');
    } catch (error) {
      const status = deviceStatusOf(error);
      if (status === 'denied') {
        this.camera = this.microphone = status;
      } else {
        // One of the two is missing or busy: find out which, and use the other.
        await Promise.all([this.open('camera', null), this.open('microphone', null)]);
      }
    }
    await this.listDevices();
  }

  /** A device picked from a list: used now, and remembered for the call. */
  async choose(kind: DeviceKind, deviceId: string): Promise<void> {
    rememberDeviceChoice(kind, deviceId);
    this.chosen = { ...this.chosen, [kind]: deviceId };
    if (kind === 'speaker') return;
    // Let go of the current device first: many cameras cannot be opened twice.
    this.useTrack(null, kind);
    await this.open(kind, deviceId);
  }

  /** A short two-note chime through the chosen speaker. */
  async testSpeaker(): Promise<void> {
    if (this.speakerTest === 'playing') return;
    this.speakerTest = 'playing';
    const context = new AudioContext();
    const output = new Audio();
    try {
      const tone = context.createOscillator();
      const envelope = context.createGain();
      const destination = context.createMediaStreamDestination();
      tone.connect(envelope).connect(destination);
      // Played by a media element, because that is what can be sent to a chosen output.
      output.srcObject = destination.stream;
      if (this.canChooseSpeaker && this.chosen.speaker) await output.setSinkId(this.chosen.speaker);
      await context.resume();
      await output.play();
      // Scheduled once everything is playing, so the chime is heard whole.
      const start = context.currentTime + 0.05;
      const end = start + TEST_TONE_SECONDS;
      tone.frequency.setValueAtTime(880, start);
      tone.frequency.setValueAtTime(660, start + TEST_TONE_SECONDS / 2);
      envelope.gain.setValueAtTime(0, start);
      envelope.gain.linearRampToValueAtTime(0.3, start + 0.05);
      envelope.gain.setValueAtTime(0.3, end - 0.1);
      envelope.gain.linearRampToValueAtTime(0, end);
      const ended = new Promise((resolve) => tone.addEventListener('ended', resolve, { once: true }));
      tone.start(start);
      tone.stop(end);
      await ended;
      this.speakerTest = 'done';
    } catch (error) {
      console.error('speaker test failed', error);
      this.speakerTest = 'failed';
    } finally {
      output.pause();
      output.srcObject = null;
      void context.close();
    }
  }

  /** Lets go of camera and microphone (the call opens them again). */
  stop(): void {
    this.stopped = true;
    navigator.mediaDevices.removeEventListener('devicechange', this.onDeviceChange);
    document.removeEventListener('pointerdown', this.resumeMeter);
    document.removeEventListener('keydown', this.resumeMeter);
    this.useTrack(null, 'camera');
    this.useTrack(null, 'microphone');
  }

  /** Opens one device: the given one, or (null) the remembered one falling back to the default. */
  private async open(kind: 'camera' | 'microphone', deviceId: string | null): Promise<void> {
    const base = kind === 'camera' ? CAMERA : MICROPHONE;
    const constraints = deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
    const request = kind === 'camera' ? { video: constraints } : { audio: constraints };
    try {
      const stream = deviceId ? await navigator.mediaDevices.getUserMedia(request) : await openPreferredMedia(request);
      const [track] = kind === 'camera' ? stream.getVideoTracks() : stream.getAudioTracks();
      this.useTrack(track ?? null, kind);
    } catch (error) {
      if (kind === 'camera') this.camera = deviceStatusOf(error);
      else this.microphone = deviceStatusOf(error);
    }
    // Device names are only listed once the browser was allowed to use one.
    await this.listDevices();
  }

  private useTrack(track: MediaStreamTrack | null, kind: 'camera' | 'microphone'): void {
    if (this.stopped) {
      track?.stop();
      return;
    }
    const deviceId = track?.getSettings().deviceId;
    if (deviceId) this.chosen = { ...this.chosen, [kind]: deviceId };
    track?.addEventListener('ended', () => {
      // Unplugged while in use.
      if (kind === 'camera' && this.videoTrack === track) this.camera = 'missing';
      if (kind === 'microphone' && this.audioTrack === track) this.microphone = 'missing';
    });
    if (kind === 'camera') {
      this.videoTrack?.stop();
      this.videoTrack = track;
      if (track) this.camera = 'ready';
    } else {
      this.audioTrack?.stop();
      this.audioTrack = track;
      this.stopMeter();
      if (track) {
        this.microphone = 'ready';
        this.startMeter(track);
      }
    }
  }

  private async listDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const of = (kind: MediaDeviceKind) =>
      devices
        .filter((device) => device.kind === kind && device.deviceId !== '')
        .map(({ deviceId, label }) => ({ deviceId, label }));
    this.cameras = of('videoinput');
    this.microphones = of('audioinput');
    this.speakers = of('audiooutput');
    // A remembered speaker that is not there (any more) leaves the choice to the default.
    const speaker = this.chosen.speaker;
    if (speaker && !this.speakers.some((option) => option.deviceId === speaker)) {
      this.chosen = { ...this.chosen, speaker: undefined };
    }
  }

  private startMeter(track: MediaStreamTrack): void {
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const meter = { context, frame: 0 };
    const measure = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const level = Math.max(meterLevel(Math.sqrt(sum / samples.length)), this.level - METER_FALL);
      this.level = Math.round(level * 100) / 100;
      meter.frame = requestAnimationFrame(measure);
    };
    meter.frame = requestAnimationFrame(measure);
    this.meter = meter;
    const showState = () => {
      if (this.meter === meter) this.meterWaitsForUser = context.state === 'suspended';
    };
    context.addEventListener('statechange', showState);
    showState();
    this.resumeMeter();
  }

  private stopMeter(): void {
    if (!this.meter) return;
    cancelAnimationFrame(this.meter.frame);
    void this.meter.context.close();
    this.meter = null;
    this.level = 0;
    this.meterWaitsForUser = false;
  }
}
