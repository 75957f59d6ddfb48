import { describe, expect, it } from 'vitest';
import { jstTimestamp } from '../spreadsheet-csv.ts';
import { auditCsv } from './audit-csv.ts';

describe('audit CSV', () => {
  const actors = new Map([['a1', { username: 'sato', displayName: '佐藤 "はな" 子' }]]);

  it('starts with a BOM and a header, quotes every field, doubles quotes, ends lines with CRLF', () => {
    const csv = auditCsv(
      [
        {
          id: '1772323200000-0',
          at: '2026-03-01T00:00:00.000Z',
          action: 'account.updated',
          actorAccountId: 'a1',
          outcome: 'success',
          siteId: 'aoshima',
          target: 'account:b2',
          ip: '10.0.0.1',
          detail: { changes: { displayName: { from: 'a,b', to: 'c\nd' } } },
        },
      ],
      actors,
    );
    expect(csv.startsWith('\uFEFF"id","at_utc","at_jst","action",')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[1]).toBe(
      '"1772323200000-0","2026-03-01T00:00:00.000Z","2026-03-01 09:00:00","account.updated","success","a1","sato",' +
        '"佐藤 ""はな"" 子","aoshima","","account:b2","10.0.0.1",' +
        '"{""changes"":{""displayName"":{""from"":""a,b"",""to"":""c\\nd""}}}"',
    );
  });

  it('neutralises values a spreadsheet would run as formulas, and leaves unknown actors blank', () => {
    const csv = auditCsv(
      [
        {
          id: '1-0',
          at: '2026-03-01T00:00:00.000Z',
          action: 'signin.failed',
          actorAccountId: null,
          outcome: 'failure',
          detail: { username: '=HYPERLINK("x")' },
        },
        { id: '2-0', at: 'bad', action: '@cmd', actorAccountId: 'gone', outcome: 'denied' },
      ],
      actors,
    );
    const [, first, second] = csv.split('\r\n');
    expect(first).toContain('"signin.failed","failure","","",""');
    expect(first).toContain('"{""username"":""=HYPERLINK(\\""x\\"")""}"');
    expect(second).toBe('"2-0","bad","","\'@cmd","denied","gone","","","","","","",""');
  });

  it('writes Japan time', () => {
    expect(jstTimestamp('2026-12-31T15:30:05Z')).toBe('2027-01-01 00:30:05');
  });
});
