import type { CoreDeps } from './deps.js';

// Placeholder: filled in with its capability.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RoomService {}

export function createRoomService(_deps: CoreDeps): RoomService {
  return {};
}
