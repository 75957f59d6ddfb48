/* eslint-disable svelte/prefer-svelte-reactivity -- the Maps are bookkeeping, deliberately not reactive; the UI reads only the $state fields. */
import type { DownlinkMeasure, LinkLevel } from '@telemed/contract';
import type { VideoDemand } from './conference-room.svelte.ts';
import {
  demandsAt,
  initialLinkState,
  levelNeeds,
  levelThatFits,
  linkLevels,
  linkSampleOf,
  linkNotice,
  nextLinkState,
  sendLayerCap,
  type LinkNotice,
  type LinkPolicyState,
  type LinkSample,
  type MeasuredStream,
} from './link-adaptation.ts';

/** What the site's link profile caps, in kbit/s each way (null: no cap). */
export interface RoomLinkCaps {
  upKbps: number | null;
  downKbps: number | null;
}

export interface RoomLinkOptions {
  caps: RoomLinkCaps;
  /** Whose video is the presenter's now (the joint read's presenter, and whoever shares a screen). */
  presenterIds: () => ReadonlySet<string>;
  remoteCount: () => number;
  /** Has the SFU forward exactly these videos (the room's own demand mechanism). */
  forward: (demands: VideoDemand[]) => void;
  /** The level changed: others are told, the own camera stops at audio-only. */
  changed: (level: LinkLevel) => void;
}

/**
 * The room's link adaptation, reactive: the tiles' video demand goes through the link policy
 * (link-adaptation.ts) before it reaches the SFU, each quality sample moves the policy, and the
 * room page shows its level (banner, `data-link-level`). It also knows the other sites' levels
 * as they announce them, and caps the own camera's simulcast layers to what anyone receives and
 * what the site's uplink profile carries. Within the uplink profile, the browser's own
 * bandwidth estimation drops the upper simulcast layers when the measured uplink is short
 * (WebRTC does that by itself); capping on `availableOutgoingBitrate` here as well would pin the
 * sender low, since that estimate does not rise above what is sent.
 */
export class RoomLink {
  level = $state<LinkLevel>('full');
  /** Other participants' link levels, as they announced them. */
  remoteLevels = $state<Record<string, LinkLevel>>({});
  /** Participants whose camera the tiles show but this site's link holds back (not received). */
  heldBackIds = $state<string[]>([]);
  /** Whether QA feeds synthetic samples (measured ones are then ignored). */
  synthetic = $state(false);

  private readonly options: RoomLinkOptions;
  private policy: LinkPolicyState = initialLinkState();
  private demands: VideoDemand[] = [];
  /** The last sample taken, measured or fed (QA). */
  lastSample: LinkSample | null = null;
  /** The SFU's last measure of this browser's downlink (null: none answered yet). */
  lastDownlink: DownlinkMeasure | null = null;

  constructor(options: RoomLinkOptions) {
    this.options = options;
  }

  get notice(): LinkNotice {
    return linkNotice(this.level);
  }

  /** The tiles' demand, passed on as the link lets it through. */
  show(demands: readonly VideoDemand[]): void {
    this.demands = [...demands];
    this.forward();
  }

  /** A measured sample from the room's quality sampling (every 3 s), with the SFU's measure of the downlink if it has a fresh one. */
  measure(
    streams: readonly MeasuredStream[],
    availableIncomingKbps: number | null,
    downlink: DownlinkMeasure | null,
  ): void {
    if (this.synthetic) return;
    if (downlink) this.lastDownlink = downlink;
    this.step(linkSampleOf(streams, availableIncomingKbps, downlink));
  }

  /** A synthetic sample (QA hook): from now on only these move the policy. */
  feed(sample: LinkSample): LinkLevel {
    this.synthetic = true;
    this.step(sample);
    return this.level;
  }

  /** The camera layer to send at most: what anyone receives (the SFU says), within the uplink profile. */
  sendCap(neededLayer: number | null): number {
    return Math.min(neededLayer ?? 0, sendLayerCap(this.options.caps.upKbps));
  }

  /** Everyone else's levels as the session holds them (on joining and on resuming: what was missed). */
  knowRemoteLevels(levels: Readonly<Record<string, LinkLevel>>): void {
    this.remoteLevels = { ...levels };
  }

  setRemoteLevel(participantId: string, level: LinkLevel): void {
    this.remoteLevels = { ...this.remoteLevels, [participantId]: level };
  }

  forget(participantId: string): void {
    if (!(participantId in this.remoteLevels)) return;
    const { [participantId]: _gone, ...rest } = this.remoteLevels;
    this.remoteLevels = rest;
  }

  reset(): void {
    this.policy = initialLinkState();
    this.level = 'full';
    this.remoteLevels = {};
    this.heldBackIds = [];
    this.synthetic = false;
    this.demands = [];
    this.lastSample = null;
    this.lastDownlink = null;
  }

  private needs() {
    return levelNeeds(this.demands, this.options.presenterIds(), this.options.remoteCount());
  }

  private step(sample: LinkSample): void {
    this.lastSample = sample;
    this.policy = nextLinkState(this.policy, sample, this.options.caps.downKbps, this.needs());
    this.forward();
  }

  /**
   * Applies the lower of the policy's level and the one the site's profile allows for what the
   * tiles show now (the profile caps from the start, without waiting for samples).
   */
  private forward(): void {
    const needs = this.needs();
    const capped = levelThatFits(this.options.caps.downKbps, needs);
    const rank = Math.max(linkLevels.indexOf(this.policy.level), linkLevels.indexOf(capped));
    const level = linkLevels[rank] ?? 'audio-only';
    const presenters = this.options.presenterIds();
    const allowed = demandsAt(level, this.demands, presenters);
    const passed = new Set(allowed.map((demand) => `${demand.source}:${demand.participantId}`));
    this.heldBackIds = this.demands
      .filter((demand) => demand.source === 'camera' && !passed.has(`camera:${demand.participantId}`))
      .map((demand) => demand.participantId);
    this.options.forward(allowed);
    if (level !== this.level) {
      this.level = level;
      this.options.changed(level);
    }
  }
}
