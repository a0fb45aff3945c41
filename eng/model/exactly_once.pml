/*
 * Promela model of the exactly-once protocol of docs/exactly-once.md (claim / commit / fence),
 * as implemented by src/SinkConnector/Engine (ConsumerLoop, PartitionClaims, WritePipeline, BatchTransaction) and
 * OffsetStore.cs. See docs/exactly-once.md, "The model", for this
 * file for the mapping of every step to the C# code and for what is abstracted away.
 *
 * One partition with N messages (offsets 0..N-1), NC consumer processes, an adversarial consumer
 * group, crashes, lost commit replies, operator resets. Every database statement is one atomic
 * step: Postgres is the single serialization point (row lock on the offsets row).
 *
 * Compile-time switches (spin -a -DNAME ...):
 *   NO_EPOCH_CHECK   mutant: the commit does not check epoch = my_epoch
 *   NO_OFFSET_CHECK  mutant: the commit does not check next_offset = expected
 *   TABLE_ONLY       check only the table (no duplicate, no gap), not who commits
 *   PROGRESS         also check that a quiescent system has committed the whole log
 *   NO_STALL_FIX     mutant: no re-claim of a partition still assigned after a stale foreign claim (PROGRESS stalls)
 *   NO_DROP_RECLAIM  mutant: writes given up on as hung are dropped and the partition consumed again from the stored
 *                    next_offset under the claim it has (no epoch + 1), so a dropped write that wakes up still commits
 *   NC, N, REBALANCES, CRASHES, LOST_REPLIES, RESETS, DROPS   sizes and fault budgets
 */

#ifndef NC
#define NC 2            /* consumers (processes of the group) */
#endif
#ifndef N
#define N 3             /* messages in the partition */
#endif
#ifndef BMAX
#define BMAX 2          /* messages per batch at most (batch.max_rows) */
#endif
#ifndef REBALANCES
#define REBALANCES 1    /* voluntary moves of the partition by the group */
#endif
#ifndef CRASHES
#define CRASHES 1       /* process crashes (all memory lost, restart as a new owner) */
#endif
#ifndef LOST_REPLIES
#define LOST_REPLIES 1  /* commits that land but whose reply is lost (the write is retried) */
#endif
#ifndef RESETS
#define RESETS 0        /* operator `sink offsets reset` */
#endif
#ifndef DROPS
#define DROPS 0         /* hung writes given up on (ConsumerLoop.RecoverHungWritesAsync -> WritePipeline.DropAll) */
#endif

#define NONE 255        /* SQL NULL next_offset / no group owner */

/* ---- the database: <schema>.offsets row of the partition, and the sink table ---------------- */
byte db_epoch = 0;      /* 0: no row yet */
byte db_next = NONE;    /* next_offset; NONE = NULL (claimed, never committed) */
byte db_owner = 0;      /* owner column; 0 = NULL (row made by a reset) */
byte cnt[N];            /* rows in the sink table per offset, in the current reset generation */

/* ---- the consumer group (Kafka's view) ----------------------------------------------------- */
byte gowner = NONE;     /* the member the group assigned the partition to */
bool asg[NC];           /* assignment not yet delivered (OnAssigned runs at the member's next poll) */
bool rev[NC];           /* revocation / loss not yet delivered (OnRevoked / OnLost) */

/* ---- each consumer process's memory ------------------------------------------------------- */
mtype = { FREE, CLAIMING, FENCED, OWNED, FOREIGN };
/* FREE: partition not assigned to it; CLAIMING: assigned, ClaimState.Unclaimed;
   FENCED: ClaimState.FencedOwn (re-claim own); OWNED: ClaimState.Owned; FOREIGN: ClaimState.Foreign,
   assigned but paused after a fence by another owner. */
mtype st[NC];
byte inc[NC];           /* incarnation: a restarted process has a new owner id */
byte ep[NC];            /* OwnedPartition.Epoch */
byte onext[NC];         /* OwnedPartition.NextOffset (NONE = null: fetch from earliest) */
bool bact[NC];          /* current WriteBatch has a slice for the partition */
byte bep[NC];           /* PartitionSlice.Epoch */
byte bexp[NC];          /* PartitionSlice.ExpectedOffset */
byte bend[NC];          /* PartitionSlice.NextOffset (last consumed + 1) */
mtype = { NOFLIGHT, PENDING, DONE_OK, DONE_FENCED };
mtype fst[NC];          /* the oldest in-flight write task (WritePipeline's oldest) */
byte fep[NC];
byte fexp[NC];
byte fend[NC];
mtype nst[NC];          /* the write started after it (WritePipeline's next), NOFLIGHT, PENDING or done */
byte nep[NC];
byte nexp[NC];
byte nend[NC];
/* Writes given up on (WritePipeline.DropAll): their tasks go on, unseen by the loop, and may still reach their offset
   check. zst: the dropped oldest, yst: the dropped next (it waits for the dropped oldest like any next write). */
mtype zst[NC];
byte zep[NC];
byte zexp[NC];
byte zend[NC];
mtype yst[NC];
byte yep[NC];
byte yexp[NC];
byte yend[NC];
bool zres[NC];          /* ghost: the loop has consumed the partition again since it dropped the writes */

/* ---- fault budgets ------------------------------------------------------------------------ */
byte rb = REBALANCES;
byte cr = CRASHES;
byte lr = LOST_REPLIES;
byte rs = RESETS;
byte dr = DROPS;

byte k;                 /* scratch, always 0 between steps */

#define OWNER(c)  ((c) + 1 + NC * inc[c])
#define FIRST(x)  ((x) == NONE -> 0 : (x))      /* where fetching starts: null = earliest = 0 */

#ifdef NO_EPOCH_CHECK
#define EPOCH_MATCHES(e)  true
#else
#define EPOCH_MATCHES(e)  (db_epoch == (e))
#endif
#ifdef NO_OFFSET_CHECK
#define OFFSET_MATCHES(x) true
#else
#define OFFSET_MATCHES(x) (db_next == (x))   /* IS NOT DISTINCT FROM: NULL matches NULL */
#endif

/* Table invariant: in the current generation every offset below next_offset has exactly one row,
   every offset at or above it none. No duplicate, no gap, and at the end every row exactly once. */
inline check_table() {
  k = 0;
  do
  :: k < N -> assert(cnt[k] == ((db_next != NONE && k < db_next) -> 1 : 0)); k++
  :: else -> break
  od;
  k = 0
}

/* trail output only (printf is not executed during verification) */
inline print_offset(x) {
  if
  :: x == NONE -> printf("null\n")
  :: else -> printf("%d\n", x)
  fi
}

inline drop_batch(c) { bact[c] = 0; bep[c] = 0; bexp[c] = 0; bend[c] = 0 }
/* ConsumerLoop.FinishOldestWriteAsync: the oldest write's result is taken, the next one becomes the oldest */
inline drop_flight(c) { fst[c] = nst[c]; fep[c] = nep[c]; fexp[c] = nexp[c]; fend[c] = nend[c];
                        nst[c] = NOFLIGHT; nep[c] = 0; nexp[c] = 0; nend[c] = 0 }
inline drop_flights(c) { fst[c] = NOFLIGHT; fep[c] = 0; fexp[c] = 0; fend[c] = 0;
                         nst[c] = NOFLIGHT; nep[c] = 0; nexp[c] = 0; nend[c] = 0 }

/* The commit of one write (BatchTransaction.WriteAsync): rows [x, end) and next_offset = end, in one transaction
   whose offsets UPDATE matched (WHERE epoch = e AND next_offset = x). */
inline commit(c, e, x, end) {
  printf("MSC: c%d commits offsets [%d,%d), batch epoch %d; db had epoch %d, next_offset ", c, FIRST(x), end, e, db_epoch);
  print_offset(db_next);
#ifndef TABLE_ONLY
  assert(e == db_epoch);                 /* a fenced owner never commits */
#endif
  k = FIRST(x);
  do
  :: k < end -> cnt[k]++; assert(cnt[k] <= 1); k++   /* no duplicate row */
  :: else -> break
  od;
  k = 0;
  db_next = end;
  check_table()
}
inline forget_claim(c) { ep[c] = 0; onext[c] = 0 }
inline forget_dropped(c) { zst[c] = NOFLIGHT; zep[c] = 0; zexp[c] = 0; zend[c] = 0;
                           yst[c] = NOFLIGHT; yep[c] = 0; yexp[c] = 0; yend[c] = 0 }
/* The loop claims or re-claims the partition while dropped writes may still run: from now on they must be fenced. */
inline resumed(c) { zres[c] = (zst[c] == PENDING || yst[c] == PENDING) }
/* A dropped write's commit: only before the loop consumed the partition again (its new claim fences it after). */
inline commit_dropped(c, e, x, end) {
  printf("MSC: c%d: a dropped write commits\n", c);
  assert(!zres[c]);                      /* a write given up on never commits once its partition is consumed again */
  commit(c, e, x, end)
}

/* OnRevoked / OnLost -> Release: drop the claim, the unclaimed mark and the batch share.
   The in-flight write task is not stopped: it may still commit (or be fenced) later. */
inline release(c) { st[c] = FREE; forget_claim(c); drop_batch(c) }

proctype Consumer(byte c)
{
end:
  do
  /* Poll(): rebalance callbacks run inside Consume on the polling thread */
  :: atomic { rev[c] -> rev[c] = 0; printf("MSC: c%d revoked/lost\n", c); release(c) }
  :: atomic { !rev[c] && asg[c] -> asg[c] = 0; assert(st[c] == FREE);
       printf("MSC: c%d assigned\n", c); st[c] = CLAIMING }

  /* Step 1, claim (OnAssigned -> OffsetStore.Claim, or RetryClaimsAsync -> ClaimAsync when it was
     deferred): INSERT .. ON CONFLICT DO UPDATE SET epoch = epoch + 1, owner = me RETURNING next_offset */
  :: atomic { st[c] == CLAIMING ->
       if
       :: db_epoch == 0 -> db_epoch = 1; db_next = NONE
       :: else -> db_epoch++
       fi;
       db_owner = OWNER(c);
       ep[c] = db_epoch; onext[c] = db_next; st[c] = OWNED; resumed(c);
       printf("MSC: c%d claims: epoch %d, next_offset ", c, db_epoch); print_offset(db_next) }

  /* Step 2/3, Accept: the next message (from the seek position, in order) joins the batch */
  :: atomic { st[c] == OWNED && FIRST(onext[c]) < N && !(bact[c] && bend[c] - FIRST(bexp[c]) >= BMAX) ->
       if
       :: !bact[c] -> bact[c] = 1; bep[c] = ep[c]; bexp[c] = onext[c]
       :: else -> skip
       fi;
       bend[c] = FIRST(onext[c]) + 1; onext[c] = bend[c];
       printf("MSC: c%d consumes offset %d: batch epoch %d, expected ", c, bend[c] - 1, bep[c]);
       print_offset(bexp[c]) }

  /* StartWrite: a due batch becomes the in-flight write once the previous one is finished, or (unless both
     hold upserts) the next write while one is in flight; the loop takes their results in order */
  :: atomic { bact[c] && fst[c] == NOFLIGHT ->
       fst[c] = PENDING; fep[c] = bep[c]; fexp[c] = bexp[c]; fend[c] = bend[c]; drop_batch(c);
       printf("MSC: c%d starts write of offsets [%d,%d): batch epoch %d, expected ", c, FIRST(fexp[c]), fend[c], fep[c]);
       print_offset(fexp[c]) }
  :: atomic { bact[c] && fst[c] != NOFLIGHT && nst[c] == NOFLIGHT ->
       nst[c] = PENDING; nep[c] = bep[c]; nexp[c] = bexp[c]; nend[c] = bend[c]; drop_batch(c);
       printf("MSC: c%d starts the next write, of offsets [%d,%d): batch epoch %d, expected ", c, FIRST(nexp[c]), nend[c], nep[c]);
       print_offset(nexp[c]) }

  /* The write task (WritePipeline.WriteWithRetriesAsync -> BatchTransaction.WriteAsync), concurrent with the loop: one
     transaction = the rows, then OffsetStore.AdvanceAsync (UPDATE .. WHERE epoch = my_epoch AND
     next_offset = expected), then COMMIT. Zero rows updated = fenced: rollback. */
  :: atomic { fst[c] == PENDING ->
       if
       :: EPOCH_MATCHES(fep[c]) && OFFSET_MATCHES(fexp[c]) ->
            commit(c, fep[c], fexp[c], fend[c]);
            if
            :: fst[c] = DONE_OK
            :: lr > 0 -> lr--;                   /* committed, but the reply is lost: retried */
               printf("MSC: c%d: the commit's reply is lost, the write is retried\n", c)
            fi
       :: else -> fst[c] = DONE_FENCED;
            printf("MSC: c%d write fenced, rolled back (db epoch %d, batch epoch %d)\n", c, db_epoch, fep[c])
       fi }

  /* The next write, concurrent with the oldest: it expects the oldest's end. Its check runs after the oldest's
     transaction ended (AwaitTurnAsync) or, having lost the race to the oldest's turn, before it committed. A check
     that fails while the oldest is still pending is no fence: rolled back, done again once the oldest finished
     (so no step here until then). Its result is taken after the oldest's (drop_flight). */
  :: atomic { nst[c] == PENDING && (fst[c] != PENDING || (EPOCH_MATCHES(nep[c]) && OFFSET_MATCHES(nexp[c]))) ->
       if
       :: EPOCH_MATCHES(nep[c]) && OFFSET_MATCHES(nexp[c]) ->
            commit(c, nep[c], nexp[c], nend[c]);
            if
            :: nst[c] = DONE_OK
            :: lr > 0 -> lr--;
               printf("MSC: c%d: the next write's commit reply is lost, it is retried\n", c)
            fi
       :: else -> nst[c] = DONE_FENCED;
            printf("MSC: c%d next write fenced, rolled back (db epoch %d, batch epoch %d)\n", c, db_epoch, nep[c])
       fi }

  /* ConsumerLoop.FinishOldestWriteAsync: committed -> nothing to do (Kafka commit is best effort) */
  :: atomic { fst[c] == DONE_OK -> drop_flight(c) }
  /* FinishOldestWriteAsync -> PartitionClaims.Fence -> HandleFencedAsync: if the partition is owned under the claim the batch was
     consumed with, pause it, drop the claim and the batch share, mark it unclaimed-fenced (a newer claim, made
     after the write before it was fenced, is left alone) */
  :: atomic { fst[c] == DONE_FENCED ->
       if
       :: st[c] == OWNED && ep[c] == fep[c] -> st[c] = FENCED; forget_claim(c); drop_batch(c);
          printf("MSC: c%d handles fence\n", c)
       :: else -> skip
       fi;
       drop_flight(c) }

  /* MaintainClaimsAsync -> CheckClaimsAsync (idle, no write in flight): FindFencedAsync finds the stored
     epoch moved -> HandleFencedAsync */
  :: atomic { st[c] == OWNED && fst[c] == NOFLIGHT && db_epoch != ep[c] ->
       st[c] = FENCED; forget_claim(c); drop_batch(c);
       printf("MSC: c%d claim check: fenced\n", c) }

  /* RetryClaimsAsync -> ReclaimOwnAsync: UPDATE .. SET epoch = epoch + 1 WHERE owner = me RETURNING
     next_offset; no row returned -> the partition stays paused and is forgotten */
  :: atomic { st[c] == FENCED ->
       if
       :: db_owner == OWNER(c) -> db_epoch++; ep[c] = db_epoch; onext[c] = db_next; st[c] = OWNED; resumed(c);
          printf("MSC: c%d re-claims its own: epoch %d, next_offset ", c, db_epoch); print_offset(db_next)
       :: else -> st[c] = FOREIGN;
          printf("MSC: c%d re-claim refused (row owner id %d, mine %d): partition paused and forgotten\n", c, db_owner, OWNER(c))
       fi }
  /* ConsumerLoop.RecoverHungWritesAsync: the oldest write's stage has not changed for twice statement_timeout.
     WritePipeline.DropAll gives up on it and on the write after it (their tasks go on: zst/yst); the next write starts
     with no predecessor (under new turn locks, OffsetStore.NewTurns). PartitionClaims.Fence marks the partition fenced
     if it is owned under a dropped write's claim; ConsumeAgainAsync drops its share of the open batch and re-claims it
     (RetryClaimsAsync -> ReclaimOwnAsync: the FENCED step, epoch + 1). */
  :: atomic { dr > 0 && fst[c] == PENDING -> dr--;
       printf("MSC: c%d gives up on its writes in flight as hung\n", c);
       if
       :: st[c] == OWNED && (ep[c] == fep[c] || (nst[c] != NOFLIGHT && ep[c] == nep[c])) ->
#ifdef NO_DROP_RECLAIM
          /* mutant: consumed again from the stored next_offset under the same claim */
          onext[c] = db_next; drop_batch(c); zres[c] = 1;
          printf("MSC: c%d consumes again from next_offset ", c); print_offset(db_next)
#else
          st[c] = FENCED; forget_claim(c); drop_batch(c)
#endif
       :: else -> skip
       fi;
       zst[c] = fst[c]; zep[c] = fep[c]; zexp[c] = fexp[c]; zend[c] = fend[c];
       if
       :: nst[c] == PENDING -> yst[c] = PENDING; yep[c] = nep[c]; yexp[c] = nexp[c]; yend[c] = nend[c]
       :: else -> skip                   /* done: its result is never taken */
       fi;
       drop_flights(c) }

  /* A dropped write goes on: one transaction with the offset check, as any write; the loop never sees its result and
     its retries stop (abandoned). Or it never ends (what made it hang), and the write after it waits for it for good. */
  :: atomic { zst[c] == PENDING ->
       if
       :: EPOCH_MATCHES(zep[c]) && OFFSET_MATCHES(zexp[c]) -> commit_dropped(c, zep[c], zexp[c], zend[c])
       :: else -> printf("MSC: c%d: a dropped write is fenced\n", c)
       fi;
       zst[c] = NOFLIGHT; zep[c] = 0; zexp[c] = 0; zend[c] = 0 }
  :: atomic { zst[c] == PENDING -> printf("MSC: c%d: a dropped write never ends\n", c); forget_dropped(c) }
  :: atomic { yst[c] == PENDING && (zst[c] != PENDING || (EPOCH_MATCHES(yep[c]) && OFFSET_MATCHES(yexp[c]))) ->
       if
       :: EPOCH_MATCHES(yep[c]) && OFFSET_MATCHES(yexp[c]) -> commit_dropped(c, yep[c], yexp[c], yend[c])
       :: else -> printf("MSC: c%d: the dropped next write is fenced\n", c)
       fi;
       yst[c] = NOFLIGHT; yep[c] = 0; yexp[c] = 0; yend[c] = 0 }
#ifndef NO_STALL_FIX
  /* ConsumerLoop.MaintainClaimsAsync (PartitionClaims.ExpireForeign): a partition paused after a foreign fence that is still
     assigned to this member once any revocation would have arrived (a session timeout later) is
     claimed again, unconditionally, as if newly assigned. */
  :: atomic { st[c] == FOREIGN && !rev[c] -> st[c] = CLAIMING;
       printf("MSC: c%d still assigned after a foreign fence: claims again\n", c) }
#endif
  od
}

/* The consumer group, the operator and the faults. The group may deliver a revocation late or never
   before the new owner is assigned (the old owner was expelled: session timeout, process pause,
   network partition from Kafka) -- the old owner then acts as a zombie until it polls. */
proctype World()
{
  byte t;
end:
  do
  /* initial assignment, or reassignment after the owner crashed (session timeout) */
  :: atomic { gowner == NONE ->
       select (t : 0 .. NC - 1); gowner = t; asg[t] = 1;
       printf("MSC: group assigns the partition to c%d\n", t); t = 0 }
  /* a rebalance moves the partition (possibly to the same member: lost, then assigned again) */
  :: atomic { rb > 0 && gowner != NONE -> rb--;
       if
       :: asg[gowner] -> asg[gowner] = 0   /* never delivered */
       :: else -> rev[gowner] = 1
       fi;
       select (t : 0 .. NC - 1);
       printf("MSC: group moves the partition from c%d to c%d\n", gowner, t);
       gowner = t; asg[t] = 1; t = 0 }
  /* a process crashes: memory gone, an uncommitted transaction rolled back, restarted as a new owner */
  :: atomic { cr > 0 -> cr--; select (t : 0 .. NC - 1);
       printf("MSC: c%d crashes\n", t);
       st[t] = FREE; forget_claim(t); drop_batch(t); drop_flights(t); forget_dropped(t);
       asg[t] = 0; rev[t] = 0; inc[t]++;
       if
       :: gowner == t -> gowner = NONE
       :: else -> skip
       fi;
       t = 0 }
  /* operator: sink offsets reset (OffsetStore.ResetAsync): next_offset := r, epoch + 1, owner kept.
     Rows from r on are to be written again: a new generation of the table counters. */
  :: atomic { rs > 0 -> rs--; select (t : 0 .. N);
       if
       :: db_epoch == 0 -> db_epoch = 1; db_owner = 0
       :: else -> db_epoch++
       fi;
       db_next = t;
       k = 0;
       do
       :: k < N -> cnt[k] = (k < t -> 1 : 0); k++
       :: else -> break
       od;
       k = 0;
       printf("MSC: operator resets next_offset to %d, epoch %d\n", t, db_epoch);
       t = 0 }
  /* faults may also stop happening */
  :: atomic { rb > 0 -> rb = 0 }
  :: atomic { cr > 0 -> cr = 0 }
  :: atomic { rs > 0 -> rs = 0 }
  od
}

/* End state: nothing can move any more (every fault spent, every event delivered, every write done). */
active proctype End()
{
  timeout ->
    check_table();
#ifdef PROGRESS
    /* the group's owner is alive and has consumed and committed the whole log */
    assert(db_next == N)
#endif
}

init
{
  byte i;
  atomic {
    i = 0;
    do
    :: i < NC -> st[i] = FREE; fst[i] = NOFLIGHT; nst[i] = NOFLIGHT; zst[i] = NOFLIGHT; yst[i] = NOFLIGHT; run Consumer(i); i++
    :: else -> break
    od;
    i = 0;
    run World()
  }
}
