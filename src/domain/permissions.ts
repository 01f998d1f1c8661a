/** Every DS role permission, in the order GET /api/v1/permissions lists them. */
export const PERMISSIONS = [
  'answer_qa', 'answer_privately_qa', 'ask_remote_unmute', 'ask_question_qa', 'ask_question_anonymously_qa',
  'access_qa', 'broadcast', 'start_session', 'end_session', 'see_participants_panel',
  'see_roles_in_participants_panel', 'general_chat', 'manage_broadcast', 'manage_edit_whiteboard',
  'manage_private_whiteboard', 'manage_roles', 'manage_screenshare', 'manage_breakout', 'manage_polls',
  'manage_poll_templates', 'moderate_qa', 'download_qa', 'private_chat', 'remove_chat', 'export_chat',
  'clear_chat', 'delete_others_chat_messages', 'present_content_library', 'manage_content_library',
  'manage_personal_content_library', 'manage_phone_users', 'push_content', 'lock_content', 'raise_hand',
  'recording', 'restreaming', 'transcribe_session', 'remote_muting', 'invite_participant',
  'remove_participant', 'pin_panels', 'control_room_entry', 'control_room_components', 'edit_whiteboard',
  'screenshare', 'upvote_qa', 'collaborate_in_notes', 'see_notes', 'see_all_questions',
  'see_questions_author', 'ban_participants', 'clear_content', 'rename_participants', 'self_rename',
  'room_reactions', 'chat_reactions', 'avatar_upload', 'see_content_badges',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** A role's permissions: a flag each, except manage_roles, which lists the role names it manages. */
export type PermissionSet = Partial<Record<Permission, boolean | string[]>>;

const ALL = Object.fromEntries(PERMISSIONS.map((p) => [p, true])) as Record<Permission, boolean | string[]>;
const NONE = Object.fromEntries(PERMISSIONS.map((p) => [p, false])) as Record<Permission, boolean | string[]>;

const ATTENDEE: PermissionSet = {
  ...NONE,
  access_qa: true,
  ask_question_qa: true,
  general_chat: true,
  private_chat: true,
  raise_hand: true,
  see_participants_panel: true,
  see_roles_in_participants_panel: true,
  see_notes: true,
  upvote_qa: true,
  room_reactions: true,
  chat_reactions: true,
  self_rename: true,
  avatar_upload: true,
  manage_roles: [],
};

const SPEAKER: PermissionSet = {
  ...ATTENDEE,
  broadcast: true,
  screenshare: true,
  present_content_library: true,
  edit_whiteboard: true,
  collaborate_in_notes: true,
  push_content: true,
  see_content_badges: true,
};

export interface BuiltinRole {
  name: string;
  display_name: string;
  description: string;
  permissions: PermissionSet;
}

/** The roles every team starts with. The moderator is the team's first default role. */
export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    name: 'moderator',
    display_name: 'Moderators',
    description:
      'Has all permissions: broadcasting, screensharing and presenting, and management rights such as muting phone callers, removing participants, locking the room and ending a session.',
    permissions: { ...ALL, start_session: true, manage_roles: ['moderator', 'speaker', 'attendee'] },
  },
  {
    name: 'speaker',
    display_name: 'Speakers',
    description: 'May broadcast, screenshare and present, without the moderator’s management rights.',
    permissions: SPEAKER,
  },
  {
    name: 'attendee',
    display_name: 'Attendees',
    description: 'The lowest rank: sees and hears the speakers and moderators, may chat and raise a hand.',
    permissions: ATTENDEE,
  },
];

export const DEFAULT_ROLE_NAME = 'moderator';
