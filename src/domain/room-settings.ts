import { Type, type Static, type TBoolean, type TSchema } from 'typebox';
import { fieldError } from '../api/errors.js';
import { listTeamRoles, type RoleRow } from '../store/repos/roles.js';
import { readTeamRoomSettings, writeTeamRoomSettings, type RoomRow } from '../store/repos/rooms.js';
import type { Executor } from '../store/store.js';
import type { Change } from './changes.js';
import { isoTime } from './clock.js';
import { applyRoleRefs, chooseTeamRoles, describeRoles, type RoleChoice, type RoleRefs, type RoleSummary, type RoomRole } from './roles.js';

/**
 * The DS room-settings catalogue: every setting a room or a team's defaults accept, with its
 * rule (from the field descriptions of the DS OpenAPI document) and its value when nobody set
 * it. Request schemas, stored documents and answers are all derived from these lists, so a
 * setting is added in one place. Below the catalogue: how a room row stores its settings, and
 * the team's default room settings (GET and PATCH /api/v1), which new rooms start from.
 *
 * Role references (`roles`, `default_role`, `private_group_chat_roles`) are resolved by the
 * roles logic; `friendly_url`, `tags` and `breakouts` by the rooms logic.
 */

interface Field<S extends TSchema = TSchema> {
  schema: S;
  fallback: Static<S>;
}
type Fields = Record<string, Field>;
type SchemasOf<F extends Fields> = { [K in keyof F]: F[K]['schema'] };
type ValuesOf<F extends Fields> = { [K in keyof F]: F[K]['fallback'] };

const field = <S extends TSchema>(schema: S, fallback: Static<S>): Field<S> => ({ schema, fallback });

function flags<const T extends Record<string, boolean>>(fallbacks: T): { [K in keyof T]: Field<TBoolean> } {
  return Object.fromEntries(Object.entries(fallbacks).map(([name, fallback]) => [name, field(Type.Boolean(), fallback)])) as {
    [K in keyof T]: Field<TBoolean>;
  };
}

function schemasOf<F extends Fields>(fields: F): SchemasOf<F> {
  return Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.schema])) as SchemasOf<F>;
}

function fallbacksOf<F extends Fields>(fields: F): ValuesOf<F> {
  return Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.fallback])) as ValuesOf<F>;
}

const OneOf = <const T extends readonly string[]>(values: T) => Type.Enum(values);
/** A string or null; length rules apply to strings only, so Laravel-style `nullable` reads as one rule. */
const NullableText = (minLength: number, maxLength: number, extra: Record<string, unknown> = {}) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], minLength, maxLength, ...extra });
const Text = (minLength: number, maxLength: number) => Type.String({ minLength, maxLength });
const HexColor = Type.String({ pattern: '^#([0-9A-Fa-f]{3,4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$', description: 'Must be color hex code.' });

/** Every UI language DS lists; `language` and `languages` share it so a team default is valid in every room. */
const LANGUAGES = [
  'ar-SA', 'bg-BG', 'ca-ES', 'da-DK', 'de-DE', 'en', 'es-ES', 'fi-FI', 'fr-FR',
  'it-IT', 'nb-NO', 'nl-NL', 'pt-PT', 'ro-RO', 'sv-SE', 'tr-TR', 'zh-CN', 'zh-TW',
] as const;

/** Names a team's `domain` may not take (DS reserves them for its own hosts). */
const RESERVED_DOMAINS = ['docs', 'api', 'dev-api', 'staging-api', 'you', 'dashboard'];

const DEFAULT_CONSENT_MESSAGE =
  'By joining, you consent to the processing of your personal data in accordance with our [link https://www.digitalsamba.com/redirect/privacy-policy]Privacy Policy[/link].';

/** Settings a team sets as defaults and each room may override. */
const SHARED_FIELDS = {
  ...flags({
    is_locked: false, topbar_enabled: true, pip_enabled: true, auto_pip_enabled: true, toolbar_enabled: true,
    language_selection_enabled: true, room_reactions_enabled: true, audio_on_join_enabled: true,
    video_on_join_enabled: true, hd_video_on_join_enabled: false, audio_autogain_enabled: true,
    audio_noise_suppression_enabled: true, audio_echo_cancellation_enabled: true, mute_sound_enabled: false,
    participants_list_enabled: true, pin_enabled: true, full_screen_enabled: true, minimize_own_tile_enabled: true,
    minimize_own_tile_on_join_enabled: false, end_session_enabled: true, leave_session_enabled: true,
    rejoin_session_enabled: true, connection_message_enabled: true, connection_quality_indicator_enabled: false,
    video_fit_mode_enabled: false, pin_panels_enabled: false, chat_enabled: true, private_chat_enabled: true,
    private_group_chat_enabled: false, chat_persistence_enabled: false, chat_reactions_enabled: true,
    chat_reactions_extended_enabled: false, e2ee_enabled: false, e2ee_badge_enabled: true,
    layout_mode_switch_enabled: true, simple_notifications_enabled: true, join_screen_enabled: true,
    screenshare_enabled: true, recordings_enabled: true, hide_tiles_in_recordings_enabled: false,
    recording_logo_enabled: true, participant_names_in_recordings_enabled: true, recording_autostart_enabled: false,
    recording_bookmarks_enabled: false, recording_breakout_autostart_enabled: false,
    recording_consent_message_enabled: true, captions_in_recordings_enabled: false, logo_enabled: false,
    virtual_backgrounds_enabled: true, virtual_backgrounds_v2_enabled: false, raise_hand_enabled: true,
    invite_participants_enabled: true, invite_participants_advanced_enabled: false, whiteboard_enabled: true,
    qa_enabled: true, upvote_qa_enabled: true, shared_notes_enabled: true, polls_enabled: true,
    consent_message_enabled: true, lobby_sound_enabled: false, content_library_enabled: true,
    transcription_enabled: false, transcription_auto_start_enabled: true, transcription_store_enabled: true,
    captions_enabled: false, watermark_enabled: false,
  }),
  toolbar_position: field(OneOf(['left', 'right', 'bottom']), 'bottom'),
  video_tile_layout_mode: field(OneOf(['top', 'bottom']), 'top'),
  toolbar_color: field(HexColor, '#000000'),
  primary_color: field(HexColor, '#3771E0'),
  background_color: field(HexColor, '#000000'),
  palette_mode: field(OneOf(['light', 'dark']), 'light'),
  language: field(OneOf(LANGUAGES), 'en'),
  languages: field(Type.Array(OneOf(LANGUAGES), { uniqueItems: true }), [...LANGUAGES]),
  hd_video_quality: field(OneOf(['720_1.5', '720_2.5', '1080_2.5', '1080_5.5']), '720_1.5'),
  audio_quality: field(OneOf(['32', '64', '128', '256']), '32'),
  private_group_chat_name: field(Text(3, 100), 'Moderators'),
  recordings_layout_mode: field(OneOf(['auto', 'tiled']), 'tiled'),
  layout_mode_on_join: field(OneOf(['auto', 'tiled']), 'tiled'),
  custom_logo: field(NullableText(1, 1_000_000), null),
  application_logo: field(NullableText(1, 1_000_000), null),
  qa_default_filter: field(OneOf(['all', 'open', 'answered']), 'all'),
  consent_message_type: field(OneOf(['generic', 'custom']), 'generic'),
  consent_message: field(NullableText(1, 5000), DEFAULT_CONSENT_MESSAGE),
  checkbox_message: field(NullableText(1, 255), 'Don’t show this again.'),
  /** Minutes; null is unlimited. */
  session_length: field(Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 1440 }), null),
  html_title: field(NullableText(3, 255), null),
  lobby_message: field(NullableText(3, 1000), null),
  default_content_library: field(OneOf(['room', 'personal']), 'room'),
  library_id: field(NullableText(36, 36, { format: 'uuid' }), null),
  captions_language: field(OneOf(['bg', 'ca', 'da', 'de', 'en', 'es', 'fi', 'fr', 'it', 'nl', 'pt', 'ro', 'sv', 'tr']), 'en'),
  watermark_text: field(NullableText(3, 150), null),
};

/** Settings only a room has. */
const ROOM_ONLY_FIELDS = {
  ...flags({
    is_audio_only: false, breakout_rooms_enabled: false, breakout_free_movement_enabled: false,
    breakout_return_to_main_room_enabled: true, breakout_timer_enabled: false, breakout_end_on_timer: true,
    restream_enabled: false, hide_tiles_in_restream_enabled: false, restream_logo_enabled: true,
    restream_autostart_enabled: false, participant_names_in_restream_enabled: true,
    restream_consent_message_enabled: true, whip_enabled: false, telephony_enabled: false,
  }),
  description: field(NullableText(3, 500), null),
  privacy: field(OneOf(['public', 'private']), 'public'),
  external_id: field(NullableText(1, 255), null),
  /** Webhook ids this room's events go to; empty means every webhook of the team. */
  webhooks: field(Type.Array(Text(1, 255), { maxItems: 100 }), []),
  broadcaster_tile_visibility: field(OneOf(['all', 'cam_mic', 'cam']), 'all'),
  breakout_timer_duration: field(Type.Integer({ minimum: 1, maximum: 1440 }), 30),
  restream_type: field(OneOf(['youtube', 'vimeo', 'cloudflare', 'custom']), 'custom'),
  restream_key: field(NullableText(1, 1000), null),
  restream_url: field(NullableText(1, 2000), null),
  restream_layout_mode: field(OneOf(['auto', 'tiled']), 'tiled'),
  max_participants: field(Type.Integer({ minimum: 2, maximum: 2000 }), 100),
  /** Never above max_participants: a larger value is lowered to it. */
  max_broadcasters: field(Type.Integer({ minimum: 1, maximum: 2000 }), 100),
  telephony_phone_number: field(NullableText(1, 255), null),
  /** Digits, * and #, with W (1 s) and w (0.5 s) pauses. */
  telephony_pin_dtmf: field(NullableText(1, 64, { pattern: '^[0-9*#Ww]+$' }), null),
  /** Normalised to ISO-8601 with a Z; must lie in the future when set. */
  expires_at: field(NullableText(19, 20, { pattern: '^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}Z?$' }), null),
};

/** Settings only a team's defaults have. */
const TEAM_ONLY_FIELDS = {
  domain: field(Type.String({ pattern: '^[A-Za-z0-9_-]{3,32}$' }), 'local'),
  favicon: field(NullableText(1, 1_000_000), null),
  // Stricter at team level: DS allows only Latin text there, up to 50 characters.
  watermark_text: field(NullableText(3, 50, { pattern: "^[A-Za-z0-9 .,:;!?'\"()&@#%+/_-]*$" }), null),
};

export const SHARED_SETTING_NAMES = Object.keys(SHARED_FIELDS) as (keyof typeof SHARED_FIELDS)[];

export const RoomSettingSchemas = schemasOf({ ...SHARED_FIELDS, ...ROOM_ONLY_FIELDS });
export const TeamSettingSchemas = schemasOf({ ...SHARED_FIELDS, ...TEAM_ONLY_FIELDS });

/** Every plain room setting, as stored and answered. */
export type RoomSettings = ValuesOf<typeof SHARED_FIELDS & typeof ROOM_ONLY_FIELDS>;
export type TeamSettings = ValuesOf<typeof SHARED_FIELDS & typeof TEAM_ONLY_FIELDS>;

export const ROOM_SETTING_FALLBACKS: RoomSettings = fallbacksOf({ ...SHARED_FIELDS, ...ROOM_ONLY_FIELDS });
export const TEAM_SETTING_FALLBACKS: TeamSettings = fallbacksOf({ ...SHARED_FIELDS, ...TEAM_ONLY_FIELDS });

/** "2024-09-05 12:30:00" or "2024-09-05T12:30:00Z" (UTC) as epoch ms; NaN when it is no real date. */
export function parseExpiry(value: string): number {
  const iso = `${value.slice(0, 10)}T${value.slice(11, 19)}Z`;
  const time = Date.parse(iso);
  return Number.isNaN(time) || new Date(time).toISOString().slice(0, 19) !== iso.slice(0, 19) ? Number.NaN : time;
}

/** A breakout room of a room. */
export interface Breakout {
  id: string;
  name: string;
}

/** Settings kept in the rooms table's own columns (other services read them); the rest live in its JSON document. */
type ColumnSetting =
  | 'description' | 'privacy' | 'external_id' | 'is_locked' | 'session_length' | 'expires_at' | 'max_participants'
  | 'telephony_enabled' | 'telephony_phone_number' | 'telephony_pin_dtmf';

interface RoomDocument extends Omit<RoomSettings, ColumnSetting> {
  private_group_chat_roles: string[];
  breakouts: Breakout[];
}

/** A room's settings as the columns of its row (the JSON document included). */
export function toColumns(settings: RoomSettings, choice: RoleChoice, breakouts: Breakout[]) {
  const { description, privacy, external_id, is_locked, session_length, expires_at, max_participants, telephony_enabled, telephony_phone_number, telephony_pin_dtmf, ...rest } =
    settings;
  const document: RoomDocument = { ...rest, private_group_chat_roles: choice.privateGroupChatRoleIds, breakouts };
  return {
    description,
    privacy,
    external_id,
    is_locked: is_locked ? 1 : 0,
    session_length,
    expires_at: expires_at === null ? null : parseExpiry(expires_at),
    max_participants,
    telephony_enabled: telephony_enabled ? 1 : 0,
    telephony_phone_number,
    telephony_pin_dtmf,
    default_role_id: choice.defaultRoleId,
    settings: JSON.stringify(document),
  };
}

/** A room's settings read back from its row; settings added after the room was made read as their fallback. */
export function fromColumns(row: RoomRow): { settings: RoomSettings; privateGroupChatRoleIds: string[]; breakouts: Breakout[] } {
  const { private_group_chat_roles, breakouts, ...rest } = JSON.parse(row.settings) as Partial<RoomDocument>;
  const settings: RoomSettings = {
    ...ROOM_SETTING_FALLBACKS,
    ...rest,
    description: row.description,
    privacy: row.privacy as RoomSettings['privacy'],
    external_id: row.external_id,
    is_locked: row.is_locked === 1,
    session_length: row.session_length,
    expires_at: row.expires_at === null ? null : isoTime(row.expires_at),
    max_participants: row.max_participants,
    telephony_enabled: row.telephony_enabled === 1,
    telephony_phone_number: row.telephony_phone_number,
    telephony_pin_dtmf: row.telephony_pin_dtmf,
  };
  return { settings, privateGroupChatRoleIds: private_group_chat_roles ?? [], breakouts: breakouts ?? [] };
}

/** A team's stored defaults: only what PATCH /api/v1 set, with role references as role ids. */
export type TeamDefaultsDocument = Partial<TeamSettings> & {
  roles?: string[];
  default_role?: string;
  private_group_chat_roles?: string[];
};

/** A team's default room settings, every setting resolved. */
export interface TeamDefaults {
  settings: TeamSettings;
  roles: RoomRole[];
  default_role: RoleSummary;
}

export interface TeamDefaultsInput extends Partial<TeamSettings>, RoleRefs {}

export async function readTeamDefaults(db: Executor, teamId: string): Promise<TeamDefaults> {
  const document = JSON.parse(await readTeamRoomSettings(db, teamId)) as TeamDefaultsDocument;
  return describeTeamDefaults(document, await listTeamRoles(db, teamId));
}

/**
 * Stores what the input sets, on top of what earlier changes set. Role references are kept
 * only once set, so a team that never chose roles keeps following its built-in roles.
 */
export async function updateTeamDefaults(change: Change, teamId: string, input: TeamDefaultsInput): Promise<TeamDefaults> {
  const { roles, default_role, private_group_chat_roles, ...plain } = input;
  if (plain.domain !== undefined && RESERVED_DOMAINS.includes(plain.domain.toLowerCase())) {
    throw fieldError('domain', `The domain may not be one of ${RESERVED_DOMAINS.join(', ')}.`);
  }
  const document = JSON.parse(await readTeamRoomSettings(change.trx, teamId)) as TeamDefaultsDocument;
  const teamRoles = await listTeamRoles(change.trx, teamId);
  const before = chooseTeamRoles(teamRoles, document);
  const after = applyRoleRefs(teamRoles, before, { roles, default_role, private_group_chat_roles });
  const next: TeamDefaultsDocument = { ...document, ...plain };
  if (roles !== undefined) next.roles = after.roleIds;
  if (default_role !== undefined || after.defaultRoleId !== before.defaultRoleId) next.default_role = after.defaultRoleId;
  if (private_group_chat_roles !== undefined) next.private_group_chat_roles = after.privateGroupChatRoleIds;
  await writeTeamRoomSettings(change.trx, teamId, JSON.stringify(next), change.now);
  return describeTeamDefaults(next, teamRoles);
}

function describeTeamDefaults(document: TeamDefaultsDocument, teamRoles: readonly RoleRow[]): TeamDefaults {
  const { roles: _roles, default_role: _default, private_group_chat_roles: _private, ...plain } = document;
  return { settings: { ...TEAM_SETTING_FALLBACKS, ...plain }, ...describeRoles(teamRoles, chooseTeamRoles(teamRoles, document)) };
}
