import type { Api, RouteOptions } from './types.js';

// Placeholder: routes arrive with their capability.
export async function liveRoutes(_app: Api, _options: RouteOptions): Promise<void> {}
