/**
 * The device a web participant joins from, read from its browser's User-Agent: desktop,
 * mobile, tablet or smarttv (the DS device names). Order matters: TVs and tablets also
 * claim to be Android or mobile browsers.
 */
const SMART_TV = /smart-?tv|smarttv|hbbtv|netcast|web0s|webos|tizen.+tv|appletv|crkey|roku|bravia|aftb|aftm|aftt|googletv|android tv|\btv\b/i;
const TABLET = /ipad|tablet|playbook|kindle|silk\/|(android(?!.*mobile))/i;
const MOBILE = /mobi|iphone|ipod|android|windows phone|blackberry|bb10|opera mini|iemobile/i;

export type WebDevice = 'desktop' | 'mobile' | 'tablet' | 'smarttv';

export function deviceFromUserAgent(userAgent: string | undefined): WebDevice {
  const agent = userAgent ?? '';
  if (SMART_TV.test(agent)) return 'smarttv';
  if (TABLET.test(agent)) return 'tablet';
  if (MOBILE.test(agent)) return 'mobile';
  return 'desktop';
}
