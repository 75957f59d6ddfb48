import type { Attachment } from 'svelte/attachments';

/**
 * Plays a track in a `<video>` or `<audio>` element, as a Svelte attachment
 * (`{@attach playTrack(track)}`): run again whenever the track changes; null shows nothing.
 */
export function playTrack(track: MediaStreamTrack | null): Attachment<HTMLMediaElement> {
  return (element) => {
    element.srcObject = track ? new MediaStream([track]) : null;
  };
}
