/*
 * pool_priority.h: libuv's thread pool started below the loop's priority
 * (see pool_priority.c).
 */
#ifndef SAM_POOL_PRIORITY_H
#define SAM_POOL_PRIORITY_H

/*
 * Starts libuv's thread pool, once per process, from a thread 10 nice
 * levels below the caller's, so that its threads inherit that; a no-op
 * when the pool already runs. Blocks until the pool has run one work
 * (thread creation, about a millisecond). 0 and the nice value a pool
 * thread reported, or -1 when that is unknown.
 *
 * Thread: any; runtimes call it at creation, on their loop thread.
 */
int sam__pool_start_below_loop(int *pool_nice);

#endif /* SAM_POOL_PRIORITY_H */
