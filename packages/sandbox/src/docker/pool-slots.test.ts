import { PoolSlots, type PooledSlot } from './pool-slots';

class FakeSlot implements PooledSlot {
  dead = false;
  constructor(
    readonly name: string,
    readonly createdAt: number,
  ) {}
  alive(): boolean {
    return !this.dead;
  }
}

function book(target: number, maxIdleMs = 1_000) {
  let t = 0;
  const slots = new PoolSlots<FakeSlot>(target, maxIdleMs, () => t);
  const fill = (name: string) => {
    slots.beginFill();
    const slot = new FakeSlot(name, t);
    expect(slots.fillSucceeded(slot, false)).toBe('idle');
    return slot;
  };
  return { slots, fill, advance: (ms: number) => (t += ms) };
}

describe('pool slots', () => {
  it('asks for enough fills to reach the target, counting fills already under way', () => {
    const { slots, fill } = book(3);
    expect(slots.fillsNeeded(false)).toBe(3);
    slots.beginFill();
    expect(slots.fillsNeeded(false)).toBe(2);
    fill('a');
    expect(slots.counts()).toEqual({ idle: 1, leased: 0, refilling: 1, target: 3 });
    expect(slots.fillsNeeded(false)).toBe(1);
  });

  it('starts no fill once the pool is closed', () => {
    const { slots } = book(2);
    expect(slots.fillsNeeded(true)).toBe(0);
  });

  it('retires a container that arrives after the pool closed instead of keeping it ready', () => {
    const { slots } = book(1);
    slots.beginFill();
    const late = new FakeSlot('late', 0);
    expect(slots.fillSucceeded(late, true)).toBe('retired');
    expect(slots.counts()).toEqual({ idle: 0, leased: 0, refilling: 0, target: 1 });
    expect(slots.stateOf(late)).toBe('retired');
  });

  it('frees the fill for another attempt when provisioning fails', () => {
    const { slots } = book(1);
    slots.beginFill();
    expect(slots.fillsNeeded(false)).toBe(0);
    slots.fillFailed();
    expect(slots.fillsNeeded(false)).toBe(1);
  });

  it('leases the oldest ready slot, moves it idle → leased → retired, and never hands it out twice', () => {
    const { slots, fill } = book(2);
    const a = fill('a');
    const b = fill('b');
    const first = slots.lease();
    expect(first.slot).toBe(a);
    expect(slots.stateOf(a)).toBe('leased');
    expect(slots.stateOf(b)).toBe('idle');
    expect(slots.counts()).toMatchObject({ idle: 1, leased: 1 });
    slots.release(a);
    expect(slots.stateOf(a)).toBe('retired');
    expect(slots.lease().slot).toBe(b);
    expect(slots.lease()).toEqual({ slot: undefined, retired: [] });
  });

  it('retires slots idle past maxIdleMs instead of handing them to a call', () => {
    const { slots, fill, advance } = book(2, 1_000);
    const old = fill('old');
    advance(600);
    const fresh = fill('fresh');
    advance(400);
    const { slot, retired } = slots.lease();
    expect(retired).toEqual([old]);
    expect(slot).toBe(fresh);
  });

  it('retires a container that died while idle', () => {
    const { slots, fill } = book(2);
    const dead = fill('dead');
    const live = fill('live');
    dead.dead = true;
    expect(slots.lease()).toEqual({ slot: live, retired: [dead] });
  });

  it('refills after the call while another slot is still ready, and at once when the pool ran dry', () => {
    const { slots, fill } = book(2);
    fill('a');
    fill('b');
    const first = slots.lease().slot;
    expect(slots.refillAfterCall(first)).toBe(true);
    const second = slots.lease().slot;
    expect(slots.refillAfterCall(second)).toBe(false);
    expect(slots.refillAfterCall(undefined)).toBe(false);
    expect(slots.fillsNeeded(false)).toBe(2);
  });

  it("follows a call's pool size: a smaller target retires the surplus oldest slots at once", () => {
    const { slots, fill } = book(3);
    const a = fill('a');
    const b = fill('b');
    const c = fill('c');
    expect(slots.retarget(undefined)).toEqual([]);
    expect(slots.retarget(3)).toEqual([]);
    expect(slots.retarget(1)).toEqual([a, b]);
    expect(slots.target).toBe(1);
    expect(slots.stateOf(c)).toBe('idle');
    expect(slots.retarget(0)).toEqual([c]);
    expect(slots.fillsNeeded(false)).toBe(0);
    slots.retarget(2);
    expect(slots.fillsNeeded(false)).toBe(2);
  });

  it('drains every idle slot on shutdown but leaves leased ones to their calls', () => {
    const { slots, fill } = book(3);
    const a = fill('a');
    const b = fill('b');
    const c = fill('c');
    slots.lease();
    expect(slots.drainIdle()).toEqual([b, c]);
    expect(slots.counts()).toEqual({ idle: 0, leased: 1, refilling: 0, target: 3 });
    expect(slots.stateOf(a)).toBe('leased');
  });
});
