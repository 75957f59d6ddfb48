import { describe, expect, it } from 'vitest';
import { dictionaryVr, keywordOfTag, tagOfKey } from './dicom-dictionary.ts';

// The dictionary is read from dcmjs's module text (not imported): these pin what that must yield.
describe('DICOM dictionary', () => {
  it('knows keywords and tags both ways', () => {
    expect(tagOfKey('PatientName')).toBe('00100010');
    expect(tagOfKey('StudyInstanceUID')).toBe('0020000D');
    expect(tagOfKey('0008103e')).toBe('0008103E');
    expect(keywordOfTag('00081030')).toBe('StudyDescription');
    expect(keywordOfTag('7fe00010')).toBe('PixelData');
    expect(tagOfKey('NoSuchKeyword')).toBeUndefined();
  });

  it('gives the VR of implicit-VR elements, resolving the ambiguous ones', () => {
    expect(dictionaryVr('00100010')).toBe('PN');
    expect(dictionaryVr('00280010')).toBe('US');
    expect(dictionaryVr('7FE00010')).toBe('OW');
    expect(dictionaryVr('00280106')).toBe('US');
    expect(dictionaryVr('00280106', true)).toBe('SS');
    expect(dictionaryVr('60003000')).toBe('OW'); // overlay data, a repeating group
    expect(dictionaryVr('60200022')).toBe('LO'); // overlay description in the second overlay group
    expect(dictionaryVr('00080000')).toBe('UL');
    expect(dictionaryVr('00191010')).toBe('UN'); // private
  });
});
