import type { CoreDeps } from './deps.js';

// Placeholder: filled in with its capability.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RoomFeed {}

export function createRoomFeed(_deps: CoreDeps): RoomFeed {
  return {};
}
