/*
 * ring-voting.pml -- one round of the first ring's directory VOTING protocol, for spin.
 *
 * One round = one serial. Rounds are independent (a failed round leaves no directory and the
 * next round has a fresh serial), so one round is the whole model.
 *
 *   Phase 1 (vote)     every member sends its signed vote to every other member; honest members
 *                      forward every vote they receive; a member keeps the FIRST vote it holds from
 *                      each voter (a second, different one is vote equivocation: proof = the two).
 *   Phase 2 (sign)     at its vote deadline a member holding >= T votes (its own included) computes
 *                      the body from the votes it holds, signs it -- at most one body per serial --
 *                      and sends a signature share to every member; with < T votes it signs nothing.
 *   Phase 3 (collect)  a member counts the shares for its own body (shares that came before it
 *                      signed are kept and counted then); with >= T distinct signers it publishes.
 *                      A share for another body is a disagreement.
 *
 * Abstractions (Models/README.md says more):
 *   - A vote is (voter, variant). An honest member has one vote (variant 0); a Byzantine one can
 *     make two (0 and 1). Pair p = 2*voter + variant; a set of votes is a bitmask of pairs.
 *   - The body is computed deterministically from the votes held, so the body IS that set of
 *     votes (a bitmask), and so is its hash.
 *   - Signatures are unforgeable: a forwarded vote is still its voter's vote, and a share counts
 *     for its signer only.
 *   - Time is phases. A copy that arrives after its receiver's deadline is, for that receiver,
 *     the same as a lost one. Two network models, by SYNC:
 *
 *     SYNC 0, asynchronous (the safety configurations). Deadlines come in any order and any copy
 *       may be late or lost, so forwarding, loss and a broadcast cut short by a crash can only
 *       decide WHICH votes a member holds at its deadline, and every choice is possible: its own,
 *       any subset of the other honest members' votes, and of each Byzantine member's votes none,
 *       variant 0 or variant 1 (the adversary may send both to everyone and let the network pick
 *       which comes first, and when). The model makes exactly that choice, at the deadline.
 *       Likewise a member can publish exactly when T members have signed its body (their shares
 *       may all have come in time), or not at all. FORWARD and LOSS therefore change nothing
 *       here: LOSS 0 and 1 are the same asynchronous model.
 *     SYNC 1, synchrony (the liveness configuration; crash faults only). No loss: every copy sent
 *       to an up member arrives before the deadlines. Copy by copy: a member's vote goes to every
 *       member, each member that gets it new forwards it to every other (FORWARD), and a member
 *       may crash between two copies of its own broadcast or of a forward. The vote deadline
 *       comes once every honest member has sent its vote (delivery is immediate); the collection
 *       deadline once every honest member has signed and shared (or crashed).
 *
 *   - Byzantine members receive nothing (the adversary knows everything anyway). They sign, at
 *     any time, any number of the bodies honest members signed: a body no honest member signed
 *     has at most BYZ < T signers, so it cannot be one of the two bodies of a safety violation.
 *     A Byzantine signature counts for its body whether or not its share is sent to anyone.
 *
 * Parameters (spin -DNAME=value; plain numbers only: spin hands them to the C preprocessor
 * through a shell):
 *   N        members (2..7)                   T        threshold (default N/2+1; 2..N)
 *   BYZ      Byzantine members (ids 0..BYZ-1) CRASH    at most this many honest members crash
 *   LOSS     1: copies may be lost            SYNC     1: synchrony (refuses LOSS and BYZ)
 *   FORWARD  1: honest members forward votes
 *   PUBLISH  0: leave phase 3 out of the asynchronous model (a member publishes only a body with
 *            T signers, so a fork implies two_quorums: with the quorum check on, phase 3 cannot
 *            add a violation; leaving it out makes n = 5 fit)
 *   QUORUM_CHECK 0: leave the two_quorums check out (to see the observable fork instead)
 *
 * Properties. Each is an assertion of a flag that is set just before it fails, so a violation
 * names its property (pan: "assertion violated !(two_quorums)").
 *   two_quorums     SAFETY: two different bodies each have >= T distinct signers (signatures
 *                   from everyone, Byzantine ones included). Checked after every signature.
 *   forked          two honest members publish different directories for the serial.
 *   honest_accused  (SYNC) an honest member is caught equivocating a vote (a sanity check).
 *   disagreement    (SYNC with FORWARD) an honest member gets a share for another body.
 *   not_live        (SYNC) LIVENESS, checked when the round is over for everyone: at least T
 *                   honest members are up, yet one of them did not publish.
 */

#ifndef N
#define N 3
#endif
#ifndef T
#define T (N / 2 + 1)
#endif
#ifndef BYZ
#define BYZ 0
#endif
#ifndef CRASH
#define CRASH 0
#endif
#ifndef LOSS
#define LOSS 0
#endif
#ifndef SYNC
#define SYNC 0
#endif
#ifndef FORWARD
#define FORWARD 1
#endif
#ifndef PUBLISH
#define PUBLISH 1
#endif
#ifndef QUORUM_CHECK
#define QUORUM_CHECK 1
#endif

#if N > 7 || N < 2
#error "N must be 2..7 (a set of votes is a 2N-bit mask in a short)"
#endif
#if T < 2 || T > N
#error "T must be 2..N"
#endif
#if BYZ >= T
#error "BYZ >= T: the Byzantine members alone would be a quorum"
#endif
#if SYNC && BYZ > 0
#error "SYNC (the liveness configuration) is crash-only"
#endif
#if SYNC && LOSS
#error "SYNC means no message loss among up members"
#endif
#if !PUBLISH && !QUORUM_CHECK
#error "PUBLISH 0 and QUORUM_CHECK 0 would check nothing"
#endif

#define BIT(i)       (1 << (i))
#define HAS(m, i)    (((m) >> (i)) & 1)
#define HONEST(i)    ((i) >= BYZ)
#define HONESTMASK   (((1 << N) - 1) & ~((1 << BYZ) - 1))
#define PAIR(v, x)   (2 * (v) + (x))          /* the vote of voter v, variant x                   */
#define VOTER(p)     ((p) / 2)
#define VOTERMASK(p) (3 << (2 * VOTER(p)))    /* both variants of p's voter                       */
#define CAN_CRASH    (crashes < CRASH)

byte crashes;                 /* crashes so far                                                 */

/* ---- Ghost state: what was signed and published; the properties are stated over it ---- */
short hbody[N];               /* the body honest member i signed; 0: none (never empty)          */
byte  hsigned;                /* honest members that signed                                     */
byte  bsigned[N];             /* Byzantine b signed the body of each honest k in bsigned[b]       */
byte  published;              /* honest members that published                                  */

bit two_quorums, forked, honest_accused, disagreement, not_live;

#if SYNC
/* ---- Synchrony: the members' protocol state, updated by each delivery ---- */
short held[N];                /* the first vote held from each voter; at the deadline, the body */
byte  agree[N];               /* signers of a share for the member's own body (itself included) */
byte  early[N];               /* signers whose share came before the member signed (kept)       */
byte  up = HONESTMASK;        /* honest members that have not crashed                           */
byte  invote = HONESTMASK;    /* honest members before their vote deadline                      */
byte  inshare = HONESTMASK;   /* honest members still collecting shares                         */
byte  started;                /* honest members that sent their vote (or crashed)               */
byte  done2;                  /* honest members past phase 2 (or crashed)                       */
byte  finished;               /* honest members whose round is over (or crashed)                */
#endif

/* ================================================================================================
 * Helpers. They use the calling process's scratch variables q1..q5 (byte) and qx (short), which
 * are 0 between steps.
 * ============================================================================================== */

/* q3 = number of set bits among the w low bits of m */
inline popcount(m, w) {
    q3 = 0; q1 = 0;
    do
    :: q1 < w -> if :: HAS(m, q1) -> q3++ :: else fi; q1++
    :: else -> break
    od; q1 = 0
}

/* q3 = number of voters with a vote in the set m */
inline count_voters(m) {
    q3 = 0; q1 = 0;
    do
    :: q1 < N -> if :: ((m >> (2 * q1)) & 3) != 0 -> q3++ :: else fi; q1++
    :: else -> break
    od; q1 = 0
}

/* q2 = any subset of the members in E (a nondeterministic choice) */
inline any_subset(E) {
    q2 = 0; q1 = 0;
    do
    :: q1 < N ->
        if
        :: HAS(E, q1) -> q2 = q2 | BIT(q1)
        :: true
        fi; q1++
    :: else -> break
    od; q1 = 0
}

/* q3 = distinct signers of body qx: the honest members that signed it and the Byzantine ones
   that signed it */
inline count_signers() {
    q3 = 0; q1 = 0;
    do
    :: q1 < N ->
        if
        :: HONEST(q1) && hbody[q1] == qx -> q3++
        :: !HONEST(q1) ->
            q2 = BYZ;
            do
            :: q2 < N && HAS(bsigned[q1], q2) && hbody[q2] == qx -> q3++; break
            :: q2 < N && !(HAS(bsigned[q1], q2) && hbody[q2] == qx) -> q2++
            :: q2 >= N -> break
            od; q2 = 0
        :: else
        fi; q1++
    :: else -> break
    od; q1 = 0
}

/* SAFETY, after every new signature: no two different bodies with >= T signers each.
   (Deterministic: always called inside a d_step.) */
inline check_quorums() {
#if QUORUM_CHECK
    q5 = 0; q4 = BYZ;                         /* q5 = honest signers whose body has a quorum */
    do
    :: q4 < N ->
        if
        :: hbody[q4] != 0 -> qx = hbody[q4]; count_signers(); if :: q3 >= T -> q5 = q5 | BIT(q4) :: else fi
        :: else
        fi; q4++
    :: else -> break
    od;
    q4 = BYZ;                                 /* two of them with different bodies? */
    do
    :: q4 < N ->
        q2 = BYZ;
        do
        :: q2 < N -> if :: HAS(q5, q4) && HAS(q5, q2) && hbody[q4] != hbody[q2] -> two_quorums = 1 :: else fi; q2++
        :: else -> break
        od; q4++
    :: else -> break
    od;
    assert(!two_quorums);
    q2 = 0; q3 = 0; q4 = 0; q5 = 0; qx = 0
#else
    skip
#endif
}

/* Honest member j publishes its body: no other honest member may have published another one. */
inline publish(j) {
    published = published | BIT(j);
    printf("MSC: member %d PUBLISHES body %x\n", j, hbody[j]);
    q1 = BYZ;
    do
    :: q1 < N -> if :: HAS(published, q1) && hbody[q1] != hbody[j] -> forked = 1 :: else fi; q1++
    :: else -> break
    od; q1 = 0;
    assert(!forked)
}

#if SYNC
/* ------------------------------------------------------------------------------------------------
 * Synchrony: copy-by-copy delivery.
 * ---------------------------------------------------------------------------------------------- */

/* Member x crashes: it stops for good (its process notices at its next step). */
inline crash_member(x) {
    crashes++;
    up = up & ~BIT(x); invote = invote & ~BIT(x); inshare = inshare & ~BIT(x);
    started = started | BIT(x); done2 = done2 | BIT(x); finished = finished | BIT(x);
    printf("MSC: member %d CRASHES\n", x)
}

/* Honest member r (still voting) receives vote p: it keeps it if it is the first of its voter,
   and then it will forward it (r is added to q4). (A second vote of the same voter would be vote
   equivocation; honest voters never make one, and there is no Byzantine member under SYNC.) */
inline receive_vote(r, p) {
    if
    :: (held[r] & VOTERMASK(p)) == 0 ->
        held[r] = held[r] | BIT(p); q4 = q4 | BIT(r);
        printf("MSC: member %d gets the vote of %d\n", r, VOTER(p))
    :: HAS(held[r], p) -> skip                                      /* a copy it holds */
    :: !HAS(held[r], p) && (held[r] & VOTERMASK(p)) != 0 ->
        if :: HONEST(VOTER(p)) -> honest_accused = 1 :: else fi;
        assert(!honest_accused)
    fi
}

/* Member `me` broadcasts its vote p: a copy to every member still voting, in member order (it
   may crash between two); then each member that got it new forwards it to every other (it may
   crash between two copies), until nobody has anything new. */
inline broadcast_vote(p) {
    q4 = 0; q1 = 0;
    do
    :: q1 < N && q1 != me && HAS(invote, q1) && HAS(up, me) ->
        if
        :: CAN_CRASH -> crash_member(me)                            /* crash mid-broadcast */
        :: true -> receive_vote(q1, p)
        fi; q1++
    :: q1 < N && !(q1 != me && HAS(invote, q1) && HAS(up, me)) -> q1++
    :: q1 >= N -> break
    od; q1 = 0;
#if FORWARD
    do
    :: q4 != 0 ->
        q3 = 0;
        do :: HAS(q4, q3) -> break :: else -> q3++ od;              /* forwarder r = q3 */
        q4 = q4 & ~BIT(q3);
        q1 = 0;
        do
        :: q1 < N && q1 != q3 && q1 != VOTER(p) && HAS(invote, q1) && HAS(up, q3) ->
            if
            :: CAN_CRASH -> crash_member(q3)                        /* crash mid-forward */
            :: true -> receive_vote(q1, p)
            fi; q1++
        :: q1 < N && !(q1 != q3 && q1 != VOTER(p) && HAS(invote, q1) && HAS(up, q3)) -> q1++
        :: q1 >= N -> break
        od; q1 = 0
    :: else -> break
    od; q3 = 0;
#endif
    q4 = 0
}

/* Member j (signed) takes a share by signer s for body b; publishes with T signers. */
inline take_share(j, s, b) {
    if
    :: b == hbody[j] -> agree[j] = agree[j] | BIT(s)
    :: else ->                                                      /* a disagreement */
#if FORWARD
        disagreement = 1; assert(!disagreement);
#endif
        skip
    fi
}

inline try_publish(j) {
    popcount(agree[j], N);
    if
    :: q3 >= T && HAS(inshare, j) -> q3 = 0; inshare = inshare & ~BIT(j); publish(j)
    :: else -> q3 = 0
    fi
}

/* Member `me` sends its share to every member still collecting, in member order (it may crash
   between two copies); one that has not signed yet keeps it for when it signs. */
inline send_shares() {
    q4 = 0;
    do
    :: q4 < N && q4 != me && HAS(inshare, q4) && HAS(up, me) ->
        if
        :: CAN_CRASH -> crash_member(me)                            /* crash mid-broadcast */
        :: true ->
            if
            :: HAS(hsigned, q4) -> take_share(q4, me, hbody[me]); try_publish(q4)
            :: else -> early[q4] = early[q4] | BIT(me)
            fi
        fi; q4++
    :: q4 < N && !(q4 != me && HAS(inshare, q4) && HAS(up, me)) -> q4++
    :: q4 >= N -> break
    od; q4 = 0
}
#else
/* Member x crashes: it stops for good. */
inline crash_member(x) {
    crashes++;
    printf("MSC: member %d CRASHES\n", x)
}
#endif

/* ================================================================================================
 * An honest member. Its steps are atomic; every way its round ends leads to `end`, where it
 * stays (the loop heads are end states too: a member that another's forward crashed, under
 * SYNC, simply stays where it was).
 * ============================================================================================== */
proctype member(byte me) {
    short body;                              /* its votes, then its body (0 between steps)    */
    byte q1, q2, q3, q4, q5; short qx;       /* scratch                                       */

#if SYNC
    /* Phase 1: its vote to every member (the deliveries, forwarding included, happen here). */
    atomic {
        held[me] = held[me] | BIT(PAIR(me, 0));
        broadcast_vote(PAIR(me, 0));
        started = started | BIT(me)
    }
#endif

    /* Until its vote deadline the votes sent to it arrive (under SYNC, the deadline comes once
       every honest member has sent its vote). It may crash before. */
endvote:
    do
#if SYNC
    :: atomic { CAN_CRASH && HAS(up, me) -> crash_member(me); goto end }
    :: atomic { started == HONESTMASK && HAS(up, me) -> goto sign }
#else
    :: atomic { CAN_CRASH -> crash_member(me); goto end }
    :: atomic { goto sign }
#endif
    od;

    /* Phase 2, the vote deadline: it stops taking votes. With >= T votes it signs the body =
       the votes it holds (this runs once: at most one body per serial) and shares it. */
sign:
    atomic {
#if SYNC
        invote = invote & ~BIT(me);
        body = held[me];
#else
        /* The votes that came in time: its own, any of the other honest members' votes, and of
           each Byzantine member's votes none, variant 0 or variant 1 (whichever came first: the
           adversary may send both to everyone and the network picks the order). */
        body = BIT(PAIR(me, 0));
        any_subset(HONESTMASK & ~BIT(me));
        q4 = 0;
        do
        :: q4 < N -> if :: HAS(q2, q4) -> body = body | BIT(PAIR(q4, 0)) :: else fi; q4++
        :: else -> break
        od; q2 = 0;
        q4 = 0;
        do
        :: q4 < BYZ ->
            if
            :: true                                                 /* none came in time */
            :: body = body | BIT(PAIR(q4, 0));
               printf("MSC: byzantine %d's vote variant 0 reaches member %d in time\n", q4, me)
            :: body = body | BIT(PAIR(q4, 1));
               printf("MSC: byzantine %d's vote variant 1 reaches member %d in time\n", q4, me)
            fi; q4++
        :: else -> break
        od; q4 = 0;
#endif
        d_step {
            count_voters(body);
            if
            :: q3 >= T ->
                hbody[me] = body; hsigned = hsigned | BIT(me);
                printf("MSC: member %d SIGNS body %x\n", me, hbody[me]);
                check_quorums()
            :: else ->
                printf("MSC: member %d holds too few votes (%x): signs nothing\n", me, body)
            fi;
            q3 = 0; body = 0
        };
        if
        :: HAS(hsigned, me) ->
#if SYNC
            agree[me] = BIT(me);                                    /* its own share */
            q4 = 0;                                                 /* the shares that came early */
            do
            :: q4 < N -> if :: HAS(early[me], q4) -> take_share(me, q4, hbody[q4]) :: else fi; q4++
            :: else -> break
            od; q4 = 0; early[me] = 0;
            try_publish(me);
            send_shares();
            done2 = done2 | BIT(me)
#elif !PUBLISH
            goto end
#endif
        :: else ->
#if SYNC
            inshare = inshare & ~BIT(me); done2 = done2 | BIT(me); finished = finished | BIT(me);
#endif
            goto end
        fi
    }

    /* Phase 3: shares arrive until the collection deadline. */
#if SYNC
    /* Copy by copy (send_shares); the deadline comes once every honest member has shared. */
endcollect:
    do
    :: atomic { CAN_CRASH && HAS(up, me) -> crash_member(me); goto end }
    :: atomic {
        HAS(up, me) && done2 == HONESTMASK ->
        inshare = inshare & ~BIT(me); finished = finished | BIT(me); goto end
       }
    od;
#elif PUBLISH
    /* It can publish as soon as T members signed its body (their shares may all have come in
       time), or its deadline comes first. (A crash now is the same as the deadline.) */
endcollect:
    do
    :: atomic {
        d_step {
            qx = hbody[me]; count_signers(); qx = 0;
            if :: q3 >= T -> publish(me) :: else fi;                /* or not yet */
            q3 = 0
        };
        if :: HAS(published, me) -> goto end :: else fi
       }
    :: goto end                                                     /* the collection deadline */
    od;
#endif
end:
    false                                    /* the round is over for it */
}

/* ================================================================================================
 * A Byzantine member (asynchronous runs only). Its votes: each honest member, at its deadline,
 * holds none, variant 0 or variant 1 of them (see phase 2 of member), which covers different
 * votes to different members, late votes and votes to a subset. Here: it signs, at any time, the
 * body of any honest member that signed one, as many bodies as it likes; its share for it may
 * reach whom it likes in time, so it counts for that body.
 * ============================================================================================== */
proctype byzantine(byte me) {
    byte q1, q2, q3, q4, q5; short qx;       /* scratch */

#if !SYNC
endbyz:
    do
    :: atomic {                              /* phase 2: sign the body of honest member q4 */
        (hsigned & ~bsigned[me]) != 0 ->
        q4 = BYZ;
        do
        :: HAS(hsigned & ~bsigned[me], q4) -> break
        :: HAS(hsigned & ~bsigned[me], q4) && ((hsigned & ~bsigned[me]) >> (q4 + 1)) != 0 -> q4++
        :: !HAS(hsigned & ~bsigned[me], q4) -> q4++
        od;
        d_step {
            bsigned[me] = bsigned[me] | BIT(q4);
            printf("MSC: byzantine %d SIGNS body %x (member %d's)\n", me, hbody[q4], q4);
            q4 = 0;
            check_quorums()
        }
       }
    od
#else
    skip
#endif
}

init {
    byte i;
    byte q1, q3;
    atomic {
        i = 0;
        do
        :: i < N -> if :: HONEST(i) -> run member(i) :: else -> run byzantine(i) fi; i++
        :: else -> break
        od; i = 0
    }
#if SYNC
    /* LIVENESS, when the round is over: with >= T honest members up through the round, every
       one of them published. */
    finished == HONESTMASK;
    atomic {
        popcount(up, N);
        if :: q3 >= T && (published & up) != up -> not_live = 1 :: else fi;
        assert(!not_live)
    }
#endif
}
