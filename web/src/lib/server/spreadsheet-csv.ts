/**
 * CSV for spreadsheets (the audit trail, a session's chat): RFC 4180 (every field quoted, quotes
 * doubled, CRLF line ends), UTF-8 with a byte-order mark so Excel in Japan shows Japanese text.
 * Written by hand: the quoting is a few lines, and cells starting with = + - @ are prefixed with
 * ' so a spreadsheet never runs a value someone typed (a display name, a chat message) as a
 * formula.
 */

const BOM = '\uFEFF';

function csvField(value: string): string {
  const neutralised = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${neutralised.replaceAll('"', '""')}"`;
}

/** The rows (the first one the header) as one CSV document. */
export function spreadsheetCsv(rows: readonly (readonly string[])[]): string {
  return BOM + rows.map((row) => row.map(csvField).join(',') + '\r\n').join('');
}

const jst = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** `2026-03-01 10:00:05` in Japan time (a form spreadsheets read as a date and time). */
export function jstTimestamp(instant: string): string {
  const time = new Date(instant);
  return Number.isNaN(time.getTime()) ? '' : jst.format(time);
}
