import { z } from 'zod';

/**
 * The camera, microphone and speaker chosen in the pre-call check, remembered in this browser
 * (device ids are per site and per browser profile, so localStorage is where they belong), and
 * the call's getUserMedia that uses them. A remembered device that is gone (unplugged, another
 * PC) falls back to the browser's default rather than failing the call.
 */

export const deviceKinds = ['camera', 'microphone', 'speaker'] as const;
export type DeviceKind = (typeof deviceKinds)[number];
export type DeviceChoices = Partial<Record<DeviceKind, string>>;

const STORAGE_KEY = 'telemed.device-choices';
const deviceIdSchema = z.string().min(1).max(512);
const choicesSchema = z.object({
  camera: deviceIdSchema.optional().catch(undefined),
  microphone: deviceIdSchema.optional().catch(undefined),
  speaker: deviceIdSchema.optional().catch(undefined),
});

type ChoiceStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** localStorage, or nothing where the browser refuses it (storage disabled by policy). */
function browserStorage(): ChoiceStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function readDeviceChoices(storage: ChoiceStorage | null = browserStorage()): DeviceChoices {
  try {
    const parsed = choicesSchema.safeParse(JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}'));
    if (!parsed.success) return {};
    return Object.fromEntries(Object.entries(parsed.data).filter(([, id]) => id !== undefined));
  } catch {
    return {};
  }
}

export function rememberDeviceChoice(
  kind: DeviceKind,
  deviceId: string,
  storage: ChoiceStorage | null = browserStorage(),
): void {
  if (!deviceIdSchema.safeParse(deviceId).success) return;
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify({ ...readDeviceChoices(storage), [kind]: deviceId }));
  } catch {
    // A full or read-only storage only means the choice is not remembered.
  }
}

export interface MediaRequest {
  audio?: MediaTrackConstraints;
  video?: MediaTrackConstraints;
}

type MediaDevicesLike = Pick<MediaDevices, 'getUserMedia' | 'enumerateDevices'>;

/** The request with these device ids required (`exact`: a near match would be a wrong device). */
function withDevices(request: MediaRequest, choices: DeviceChoices): MediaStreamConstraints {
  const pick = (base: MediaTrackConstraints | undefined, deviceId: string | undefined) =>
    base ? (deviceId ? { ...base, deviceId: { exact: deviceId } } : base) : false;
  return { audio: pick(request.audio, choices.microphone), video: pick(request.video, choices.camera) };
}

/** The browser's answer when a required device does not exist (any more). */
export function isMissingDevice(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'OverconstrainedError' || name === 'NotFoundError';
}

/**
 * getUserMedia with the remembered camera and microphone. When one of them is gone, the call
 * goes ahead with the default device for it instead (the choice stays remembered for when the
 * device is back).
 */
export async function openPreferredMedia(
  request: MediaRequest,
  options: { mediaDevices?: MediaDevicesLike; storage?: ChoiceStorage | null } = {},
): Promise<MediaStream> {
  const mediaDevices = options.mediaDevices ?? navigator.mediaDevices;
  const choices = readDeviceChoices(options.storage === undefined ? browserStorage() : options.storage);
  const used: DeviceChoices = {
    ...(request.audio && choices.microphone ? { microphone: choices.microphone } : {}),
    ...(request.video && choices.camera ? { camera: choices.camera } : {}),
  };
  try {
    return await mediaDevices.getUserMedia(withDevices(request, used));
  } catch (error) {
    if (Object.keys(used).length === 0 || !isMissingDevice(error)) throw error;
    // Keep the choices whose device is still listed; without permission ids are not listed, so then none.
    const present = new Set((await mediaDevices.enumerateDevices()).map((device) => device.deviceId));
    const stillThere = Object.fromEntries(Object.entries(used).filter(([, id]) => present.has(id)));
    const fallback = Object.keys(stillThere).length < Object.keys(used).length ? stillThere : {};
    return mediaDevices.getUserMedia(withDevices(request, fallback));
  }
}
