// Test helper: writes Standard MIDI Files byte by byte, independently of app/spaces/midi, so import is
// tested against files we control (running status, sysex, unknown chunks, type 0 and 1).

export type RawEvent = readonly [delta: number, ...bytes: number[]];

export function vlq(value: number): number[] {
  const out = [value & 0x7f];
  let rest = Math.floor(value / 128);
  while (rest > 0) {
    out.unshift((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  return out;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function chunk(tag: string, body: number[]): number[] {
  return [...[...tag].map((c) => c.charCodeAt(0)), ...u32(body.length), ...body];
}

export function trackBody(events: readonly RawEvent[], endOfTrack = true): number[] {
  const body: number[] = [];
  for (const [delta, ...bytes] of events) body.push(...vlq(delta), ...bytes);
  if (endOfTrack) body.push(0, 0xff, 0x2f, 0);
  return body;
}

export function smf(
  format: number,
  ppq: number,
  tracks: readonly (readonly RawEvent[])[],
  extraChunks: number[][] = [],
): Uint8Array {
  const header = chunk("MThd", [
    0,
    format,
    (tracks.length >> 8) & 0xff,
    tracks.length & 0xff,
    ppq >> 8,
    ppq & 0xff,
  ]);
  const body: number[] = [...header];
  tracks.forEach((t, i) => {
    if (i === 1) for (const c of extraChunks) body.push(...c);
    body.push(...chunk("MTrk", trackBody(t)));
  });
  return Uint8Array.from(body);
}

export const tempoEvent = (delta: number, microsecondsPerQuarter: number): RawEvent => [
  delta,
  0xff,
  0x51,
  3,
  (microsecondsPerQuarter >> 16) & 0xff,
  (microsecondsPerQuarter >> 8) & 0xff,
  microsecondsPerQuarter & 0xff,
];

export const meterEvent = (delta: number, numerator: number, denominatorPower: number): RawEvent => [
  delta,
  0xff,
  0x58,
  4,
  numerator,
  denominatorPower,
  24,
  8,
];

export const nameEvent = (delta: number, name: string): RawEvent => [
  delta,
  0xff,
  0x03,
  name.length,
  ...[...name].map((c) => c.charCodeAt(0)),
];

/**
 * A type-1 file: conductor with 3 tempo changes and 2 meters, a piano track on channel 0 using running status
 * and a sysex, a track that plays channels 1 and 9 (split on import), and a bass track with controllers.
 */
export function multiTrackSmf(): Uint8Array {
  const conductor: RawEvent[] = [
    meterEvent(0, 4, 2),
    tempoEvent(0, 500_000),
    tempoEvent(960, 400_000),
    meterEvent(960, 3, 3),
    tempoEvent(1000, 612_345),
  ];
  const piano: RawEvent[] = [
    nameEvent(0, "Piano"),
    [0, 0xf0, 5, 0x7e, 0x7f, 0x09, 0x01, 0xf7],
    [0, 0xc0, 0],
    [0, 0x90, 60, 100],
    [0, 64, 90],
    [240, 60, 0],
    [0, 64, 0],
    [0, 67, 127],
    [479, 0x80, 67, 64],
    [1, 0x90, 72, 1],
    [1234, 72, 0],
  ];
  const mixed: RawEvent[] = [
    nameEvent(0, "Mixed"),
    [0, 0xc1, 40],
    [0, 0x91, 50, 70],
    [0, 0x99, 36, 110],
    [120, 0x89, 36, 0],
    [0, 0x99, 38, 80],
    [100, 0x99, 38, 0],
    [17, 0x81, 50, 0],
  ];
  const bass: RawEvent[] = [
    nameEvent(0, "Bass"),
    [0, 0xc2, 33],
    [0, 0xb2, 7, 100],
    [10, 10, 64],
    [0, 0x92, 36, 90],
    [3000, 0x82, 36, 0],
    [5, 0xb2, 7, 50],
  ];
  return smf(1, 480, [conductor, piano, mixed, bass], [chunk("XFIH", [1, 2, 3, 4, 5])]);
}

/** A type-0 file with notes on channels 0, 3 and 9, a tempo change and running status. */
export function type0Smf(): Uint8Array {
  return smf(0, 96, [
    [
      tempoEvent(0, 600_000),
      meterEvent(0, 6, 3),
      [0, 0xc3, 24],
      [0, 0x90, 62, 80],
      [0, 0x93, 74, 81],
      [0, 0x99, 42, 99],
      [48, 42, 0],
      [0, 0x80, 62, 0],
      tempoEvent(0, 300_000),
      [48, 0x93, 74, 0],
      [0, 76, 50],
      [96, 76, 0],
    ],
  ]);
}
