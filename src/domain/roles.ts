import type { CoreDeps } from './deps.js';

// Placeholder: filled in with its capability.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RoleService {}

export function createRoleService(_deps: CoreDeps): RoleService {
  return {};
}
