/**
 * The Amazon States Language interpreter the starter's tests run on (terraform/rehearse/asl.ts), held to the
 * examples of the Step Functions documentation ("Intrinsic functions for JSONPath states",
 * "Choice workflow state") so the starter is judged by AWS's semantics, not the interpreter's.
 */
import { describe, expect, it } from 'vitest';
import { execute, intrinsic } from '../../terraform/rehearse/asl.ts';

describe('intrinsic functions (the documentation examples)', () => {
  it('States.StringSplit splits at every character of the splitter', () => {
    expect(intrinsic('States.StringSplit($.inputString, $.splitter)', { inputString: '1,2,3,4,5', splitter: ',' })).toEqual(['1', '2', '3', '4', '5']);
    expect(intrinsic('States.StringSplit($.inputString, $.splitter)', { inputString: 'This.is+a,test=string', splitter: '.+,=' })).toEqual(['This', 'is', 'a', 'test', 'string']);
    expect(intrinsic("States.StringSplit($.s, '/')", { s: 'no-slash' })).toEqual(['no-slash']);
  });

  it('refuses to guess what AWS does with empty pieces', () => {
    expect(() => intrinsic("States.StringSplit($.s, '.')", { s: 'a..json' })).toThrow(/empty pieces/);
    expect(() => intrinsic("States.StringSplit($.s, '.')", { s: '.json' })).toThrow(/empty pieces/);
  });

  it('States.ArrayGetItem, States.ArrayLength, States.MathAdd', () => {
    const input = { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9], index: 5 };
    expect(intrinsic('States.ArrayGetItem($.inputArray, $.index)', input)).toBe(6);
    expect(intrinsic('States.ArrayLength($.inputArray)', input)).toBe(9);
    expect(intrinsic('States.MathAdd($.value1, $.step)', { value1: 111, step: -1 })).toBe(110);
    expect(() => intrinsic('States.ArrayGetItem($.inputArray, 9)', input)).toThrow(/outside/);
  });

  it('nests, as in the documented ARN example', () => {
    const arn = 'arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/myrecipe/1.0.1';
    expect(intrinsic("States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0)", { ImageRecipe: { Arn: arn } })).toBe('1');
    // The last element, counted from the end.
    expect(intrinsic("States.ArrayGetItem(States.StringSplit($.k, '/'), States.MathAdd(States.ArrayLength(States.StringSplit($.k, '/')), -1))", { k: 'a/b/c.json' })).toBe('c.json');
  });

  it('throws on a function it does not implement, or a missing path', () => {
    expect(() => intrinsic("States.Format('{}', $.a)", { a: 1 })).toThrow(/States\.Format is not implemented/);
    expect(() => intrinsic('States.ArrayLength($.nope)', {})).toThrow(/\$\.nope does not exist/);
  });
});

describe('states', () => {
  const machine = {
    StartAt: 'Parse',
    States: {
      Parse: { Type: 'Pass', Parameters: { 'name.$': '$.detail.name', fixed: { a: 1 } }, Next: 'Pick' },
      Pick: {
        Type: 'Choice',
        Choices: [{ And: [{ Not: { Variable: '$.name', StringMatches: 'log-*.txt' } }, { Not: { Variable: '$.name', StringEquals: 'x' } }], Next: 'Call' }],
        Default: 'Static',
      },
      Static: { Type: 'Pass', Result: { name: 'static' }, Next: 'Call' },
      Call: { Type: 'Task', Resource: 'arn:aws:states:::glue:startJobRun', Parameters: { 'N.$': '$.name', Keep: 'literal' }, End: true },
    },
  };

  it('runs Pass (Parameters or Result), Choice (And, Not, StringMatches, StringEquals) and records Task calls', () => {
    expect(execute(machine, { detail: { name: 'data.csv' } })).toMatchObject({
      path: ['Parse', 'Pick', 'Call'],
      calls: [{ state: 'Call', resource: 'arn:aws:states:::glue:startJobRun', parameters: { N: 'data.csv', Keep: 'literal' } }],
    });
    for (const name of ['log-1.txt', 'log-.txt', 'x']) expect(execute(machine, { detail: { name } }).calls[0].parameters).toEqual({ N: 'static', Keep: 'literal' });
  });

  it('StringMatches: * is any run of characters, \\* a literal star', () => {
    const m = (pattern: string, value: string) =>
      execute({ StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ Variable: '$.v', StringMatches: pattern, Next: 'Y' }], Default: 'N' }, Y: { Type: 'Succeed' }, N: { Type: 'Succeed' } } }, { v: value }).path[1] === 'Y';
    expect(m('*.*.json', 'a.b.json')).toBe(true);
    expect(m('*.*.json', 'a..json')).toBe(true);
    expect(m('*.*.json', 'a.json')).toBe(false);
    expect(m('log-\\*.txt', 'log-*.txt')).toBe(true);
    expect(m('log-\\*.txt', 'log-1.txt')).toBe(false);
  });
});
