// Mistakes the declarations must catch: tsc must reject this file (the test
// checks that it does, so declarations that accept anything fail the test).
import { tryLock } from 'onlyone';

const held = tryLock('report', { slot: 2 });  // TS2561: no option "slot" (did you mean "slots"?)
const fence: number = held.fence;  // TS2322: a string or null, not a number
