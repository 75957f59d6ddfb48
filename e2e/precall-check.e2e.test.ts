import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { DEMO_SESSION_ID } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { openHospitalBrowser, signIn, trustingTurnCertificate, type HospitalBrowser } from './hospital-browser.ts';

/** Two fake cameras (fake_device_0 and fake_device_1), so a choice can be made and checked. */
const twoCameras = ['--use-fake-device-for-media-stream=device-count=2'];

describe('the pre-call check in real browsers', () => {
  let stack: Stack;
  const browsers: HospitalBrowser[] = [];

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 2 });
  });

  afterAll(async () => {
    await Promise.all(browsers.map((browser) => browser.close()));
    await stack?.stop();
  });

  it('finds camera and microphone, reports UDP and TCP reachable, lists the ports, and the call uses the camera chosen', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const site = await openHospitalBrowser({
      label: 'sato',
      extraArgs: [...twoCameras, ...trustingTurnCertificate(stack)],
    });
    browsers.push(site);
    const { page } = site;
    await signIn(page, stack.webUrl, 'sato', 'sato-demo-2026');
    await page.click(`[data-testid="check-${DEMO_SESSION_ID}"]`);
    await page.waitForURL(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}/check`);
    expect(await page.textContent('h1')).toBe('接続・機器の確認');
    expect(await page.textContent('[data-testid="precall-session"]')).toContain('離島合同症例検討会（デモ）');

    // Camera and microphone found; the preview plays.
    await page.waitForSelector('[data-device-check][data-camera-status="ready"][data-microphone-status="ready"]', {
      timeout: 30_000,
    });
    const preview = page.locator('[data-testid="camera-preview"]');
    const previewTime = () =>
      preview.evaluate((video: HTMLVideoElement) => (video.videoWidth > 0 ? video.currentTime : 0));
    await expect.poll(previewTime, { timeout: 15_000 }).toBeGreaterThan(0);
    const playedTo = await previewTime();
    await expect.poll(previewTime, { timeout: 15_000 }).toBeGreaterThan(playedTo);
    expect(await page.locator('[data-testid="camera-select"] option').allTextContents()).toEqual([
      'fake_device_0',
      'fake_device_1',
    ]);

    // The fake microphone beeps: the meter rises with each beep and falls between them.
    const level = () => page.locator('[data-testid="microphone-level"]').getAttribute('data-level').then(Number);
    await expect.poll(level, { timeout: 15_000 }).toBeGreaterThan(0.4);
    await expect.poll(level, { timeout: 15_000 }).toBeLessThan(0.2);
    await expect.poll(level, { timeout: 15_000 }).toBeGreaterThan(0.4);

    // UDP and TCP both reach the SFU on loopback, each over its own protocol, and the stack's
    // private coturn relays the TURN/TLS probe: a relay candidate reached over TLS, nothing else.
    const probe = (path: string) => page.locator(`[data-probe="${path}"]`);
    await expect.poll(() => probe('udp').getAttribute('data-result'), { timeout: 40_000 }).toBe('ok');
    await expect.poll(() => probe('tcp').getAttribute('data-result'), { timeout: 40_000 }).toBe('ok');
    await expect.poll(() => probe('turn-tls').getAttribute('data-result'), { timeout: 40_000 }).toBe('ok');
    expect(await probe('udp').getAttribute('data-protocol')).toBe('udp');
    expect(await probe('tcp').getAttribute('data-protocol')).toBe('tcp');
    expect(await probe('turn-tls').getAttribute('data-candidate-type')).toBe('relay');
    expect(await probe('turn-tls').getAttribute('data-relay-protocol')).toBe('tls');
    expect(await page.getAttribute('[data-testid="connectivity-summary"]', 'class')).toContain('good');

    // The port list for IT: web, signaling, and the SFU's media ports as its candidates announce them.
    const rule = (purpose: string) => page.locator(`[data-firewall-rule="${purpose}"]`);
    const mediaPorts = `${stack.ports.media}–${stack.ports.media + 1}`;
    expect(await rule('web').getAttribute('data-ports')).toBe(String(stack.ports.web));
    expect(await rule('signaling').getAttribute('data-ports')).toBe(String(stack.ports.signaling));
    for (const purpose of ['media-udp', 'media-tcp']) {
      expect(await rule(purpose).getAttribute('data-host')).toBe('127.0.0.1');
      expect(await rule(purpose).getAttribute('data-ports')).toBe(mediaPorts);
    }
    expect(await rule('turn-tls').getAttribute('data-status')).toBe('known');
    expect(await rule('turn-tls').getAttribute('data-host')).toBe('127.0.0.1');
    expect(await rule('turn-tls').getAttribute('data-ports')).toBe(String(stack.ports.turnTls));
    // Bilingual: Japanese first, English beneath.
    expect(await rule('media-udp').locator('th').textContent()).toContain('Video and voice (WebRTC)');

    // Speaker: pick one and play the test tone through it.
    await page.selectOption('[data-testid="speaker-select"]', { label: 'Fake Audio Output 1' });
    await page.click('[data-testid="speaker-test"]');
    await expect
      .poll(() => page.getAttribute('[data-testid="speaker-test"]', 'data-speaker-test'), { timeout: 15_000 })
      .toBe('done');

    // The second camera: the preview switches to it, and it is remembered.
    await page.selectOption('[data-testid="camera-select"]', { label: 'fake_device_1' });
    const previewLabel = () =>
      preview.evaluate(
        (video: HTMLVideoElement) => (video.srcObject as MediaStream | null)?.getVideoTracks()[0]?.label,
      );
    await expect.poll(previewLabel, { timeout: 15_000 }).toBe('fake_device_1');

    // Into the room with it: the call's camera is the one chosen.
    await page.click('[data-testid="enter-room"]');
    await page.waitForURL(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`);
    await page.click('[data-testid="join"]:not([disabled])');
    await page.waitForSelector('main[data-conference-state="joined"]', { timeout: 30_000 });
    const callCamera = () =>
      page
        .locator('figure.local video')
        .evaluate((video: HTMLVideoElement) => (video.srcObject as MediaStream | null)?.getVideoTracks()[0]?.label);
    await expect.poll(callCamera, { timeout: 15_000 }).toBe('fake_device_1');
    await page.click('[data-testid="leave"]');
    await page.waitForSelector('main[data-conference-state="left"]');
  });

  it('says so clearly, in English too, when the browser may not use camera and microphone', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const site = await openHospitalBrowser({
      label: 'suzuki',
      language: 'en',
      extraArgs: ['--use-fake-ui-for-media-stream=deny', ...trustingTurnCertificate(stack)],
    });
    browsers.push(site);
    const { page } = site;
    await signIn(page, stack.webUrl, 'suzuki', 'suzuki-demo-2026');
    await page.click('button:has-text("English")');
    await page.click('[data-testid="precall-check"]');
    await page.waitForURL(`${stack.webUrl}/check`);
    expect(await page.textContent('h1')).toBe('Connection and device check');
    await page.waitForSelector('[data-device-check][data-camera-status="denied"][data-microphone-status="denied"]', {
      timeout: 30_000,
    });
    expect(await page.textContent('[data-testid="camera-problem"]')).toContain('The camera is not allowed');
    expect(await page.textContent('[data-testid="microphone-problem"]')).toContain('The microphone is not allowed');
    // The network test does not need camera or microphone.
    await expect.poll(() => page.getAttribute('[data-probe="udp"]', 'data-result'), { timeout: 40_000 }).toBe('ok');
    await expect
      .poll(() => page.getAttribute('[data-probe="turn-tls"]', 'data-result'), { timeout: 40_000 })
      .toBe('ok');
    // English first in the port list now.
    expect(await page.locator('[data-firewall-rule="media-tcp"] th span').first().textContent()).toBe(
      'Video and voice (WebRTC, when UDP is blocked)',
    );
  });
});
