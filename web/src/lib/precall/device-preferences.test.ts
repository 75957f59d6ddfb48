import { describe, expect, it } from 'vitest';
import { openPreferredMedia, readDeviceChoices, rememberDeviceChoice } from './device-preferences.ts';

function memoryStorage(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    values,
  };
}

const missing = (name: string) => Object.assign(new Error(name), { name });
const stream = { id: 'stream' } as unknown as MediaStream;

/** A browser whose only devices are `present`; getUserMedia refuses any other exact id. */
function fakeMediaDevices(present: string[]) {
  const asked: MediaStreamConstraints[] = [];
  return {
    asked,
    enumerateDevices: async () => present.map((deviceId) => ({ deviceId }) as MediaDeviceInfo),
    getUserMedia: async (constraints: MediaStreamConstraints) => {
      asked.push(constraints);
      for (const track of [constraints.audio, constraints.video]) {
        const wanted =
          typeof track === 'object' ? (track.deviceId as { exact?: string } | undefined)?.exact : undefined;
        if (wanted && !present.includes(wanted)) throw missing('OverconstrainedError');
      }
      return stream;
    },
  };
}

describe('remembered device choices', () => {
  it('remembers each kind on its own and survives junk in storage', () => {
    const storage = memoryStorage();
    expect(readDeviceChoices(storage)).toEqual({});
    rememberDeviceChoice('camera', 'cam-2', storage);
    rememberDeviceChoice('speaker', 'out-1', storage);
    rememberDeviceChoice('camera', 'cam-3', storage);
    expect(readDeviceChoices(storage)).toEqual({ camera: 'cam-3', speaker: 'out-1' });
    rememberDeviceChoice('microphone', '', storage);
    expect(readDeviceChoices(storage)).toEqual({ camera: 'cam-3', speaker: 'out-1' });

    for (const junk of ['not json', '[1,2]', '{"camera":42,"microphone":"mic-1"}', 'null']) {
      const stored = memoryStorage({ 'telemed.device-choices': junk });
      expect(readDeviceChoices(stored)).toEqual(junk.includes('mic-1') ? { microphone: 'mic-1' } : {});
    }
    expect(readDeviceChoices(null)).toEqual({});
  });

  it('asks getUserMedia for exactly the remembered camera and microphone', async () => {
    const storage = memoryStorage();
    rememberDeviceChoice('camera', 'cam-2', storage);
    rememberDeviceChoice('microphone', 'mic-1', storage);
    const devices = fakeMediaDevices(['cam-1', 'cam-2', 'mic-1']);
    await openPreferredMedia(
      { audio: { echoCancellation: true }, video: { width: { ideal: 1280 } } },
      {
        mediaDevices: devices,
        storage,
      },
    );
    expect(devices.asked).toEqual([
      {
        audio: { echoCancellation: true, deviceId: { exact: 'mic-1' } },
        video: { width: { ideal: 1280 }, deviceId: { exact: 'cam-2' } },
      },
    ]);
    // Only what is asked for is opened: the camera alone when the camera is restarted.
    await openPreferredMedia({ video: {} }, { mediaDevices: devices, storage });
    expect(devices.asked[1]).toEqual({ audio: false, video: { deviceId: { exact: 'cam-2' } } });
  });

  it('falls back to the default for a remembered device that is gone, keeping the other choice', async () => {
    const storage = memoryStorage();
    rememberDeviceChoice('camera', 'usb-camera-unplugged', storage);
    rememberDeviceChoice('microphone', 'mic-1', storage);
    const devices = fakeMediaDevices(['cam-1', 'mic-1']);
    await expect(openPreferredMedia({ audio: {}, video: {} }, { mediaDevices: devices, storage })).resolves.toBe(
      stream,
    );
    expect(devices.asked.at(-1)).toEqual({ audio: { deviceId: { exact: 'mic-1' } }, video: {} });
    // Remembered still, for when the camera is plugged in again.
    expect(readDeviceChoices(storage).camera).toBe('usb-camera-unplugged');
  });

  it('does not hide a refusal or a missing device when nothing was remembered', async () => {
    const refusing = {
      enumerateDevices: async () => [],
      getUserMedia: async () => {
        throw missing('NotAllowedError');
      },
    };
    const storage = memoryStorage();
    await expect(openPreferredMedia({ audio: {} }, { mediaDevices: refusing, storage })).rejects.toThrow(
      'NotAllowedError',
    );
    rememberDeviceChoice('microphone', 'mic-1', storage);
    await expect(openPreferredMedia({ audio: {} }, { mediaDevices: refusing, storage })).rejects.toThrow(
      'NotAllowedError',
    );
    const none = { ...fakeMediaDevices([]), getUserMedia: async () => Promise.reject(missing('NotFoundError')) };
    await expect(openPreferredMedia({ audio: {} }, { mediaDevices: none, storage: null })).rejects.toThrow(
      'NotFoundError',
    );
  });
});
