import type { Attachment } from 'svelte/attachments';
import { readDeviceChoices } from '#lib/precall/device-preferences.ts';

/**
 * Plays a track in a `<video>` or `<audio>` element, as a Svelte attachment
 * (`{@attach playTrack(track)}`): run again whenever the track changes; null shows nothing.
 * Sound goes to the speaker chosen in the pre-call check, where the browser lets pages choose
 * (else, or when that speaker is gone, to the default one).
 */
export function playTrack(track: MediaStreamTrack | null): Attachment<HTMLMediaElement> {
  return (element) => {
    element.srcObject = track ? new MediaStream([track]) : null;
    const speaker = track?.kind === 'audio' ? readDeviceChoices().speaker : undefined;
    if (speaker && 'setSinkId' in element) {
      element.setSinkId(speaker).catch((error: unknown) => console.warn('the chosen speaker is not available', error));
    }
  };
}
