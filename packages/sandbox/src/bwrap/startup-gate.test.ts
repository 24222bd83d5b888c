import { StartupGate } from './startup-gate';

function gate() {
  const events: string[] = [];
  const g = new StartupGate(
    () => events.push('started'),
    (c) => events.push(`stderr:${c.toString()}`),
  );
  return { g, events };
}

describe('startup gate', () => {
  it("holds stderr until bwrap reports the sandbox's pid, then releases it after the start", () => {
    const { g, events } = gate();
    g.stderr(Buffer.from('early'));
    g.status(Buffer.from('{"child-'));
    expect(events).toEqual([]);
    expect(g.started).toBe(false);
    g.status(Buffer.from('pid": 42}\n'));
    expect(g.started).toBe(true);
    expect(events).toEqual(['started', 'stderr:early']);
    g.stderr(Buffer.from('late'));
    expect(events).toEqual(['started', 'stderr:early', 'stderr:late']);
  });

  it('reports the start once, however much status follows', () => {
    const { g, events } = gate();
    g.status(Buffer.from('{"child-pid": 1}\n'));
    g.status(Buffer.from('{"child-pid": 1}\n{"exit-code": 0}\n'));
    expect(events).toEqual(['started']);
  });

  it("keeps bwrap's complaint as the reason when the sandbox never started", () => {
    const { g, events } = gate();
    g.stderr(Buffer.from("bwrap: Can't find source path /nope: No such file"));
    g.stderr(Buffer.from(' or directory\nsecond line\n'));
    expect(events).toEqual([]);
    expect(g.earlyReason()).toBe("bwrap: Can't find source path /nope: No such file or directory");
  });

  it('has no reason when bwrap said nothing', () => {
    expect(gate().g.earlyReason()).toBe('');
  });
});
