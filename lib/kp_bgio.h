/* kp_bgio.h -- file work a broker's event loop hands to a thread of its own */
#ifndef KP_BGIO_H
#define KP_BGIO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Starting the kernel's writeback of appended pages, dropping pages
 * already written, and rewriting the small checkpoint files each cost
 * the caller a syscall that can block on the disk for milliseconds.
 * The event loop of a broker must not wait for them, or its clients
 * wait too. After kp_bgio_start() they run in order on one worker
 * thread; without it (tools, tests) they run at once in the caller.
 *
 * The work is advisory or replaceable: writeback and dropping only
 * change when the kernel does what it would do anyway, and a periodic
 * checkpoint is rewritten on the next tick. What must be on disk
 * before an answer (a flush, a checkpoint after DeleteRecords) stays
 * synchronous, after kp_bgio_drain() so no older queued write of the
 * same file lands after it.
 */
int		 kp_bgio_start(void);
/* Finish what is queued and stop the thread; later work runs inline. */
void		 kp_bgio_stop(void);

/* Start writeback of [off, off+len) of fd (sync_file_range WRITE). */
void		 kp_bgio_writeback(int, int64_t, int64_t);
/* Wait for that range's writeback, then drop it from the page cache. */
void		 kp_bgio_drop(int, int64_t, int64_t);
/*
 * Replace path with data (kp_write_file_atomic). Queued: 0, a failure
 * shows up in kp_bgio_failed(); a write of the same path still waiting
 * takes the new data instead. Inline: its result.
 */
int		 kp_bgio_write_file(const char *, const void *, size_t);

/* Wait until everything queued before this call is done. */
void		 kp_bgio_drain(void);
/* Jobs queued and not finished. */
size_t		 kp_bgio_pending(void);
/*
 * The first queued file write that failed since the last call: its
 * errno, with its path copied into buf; 0 when none did.
 */
int		 kp_bgio_failed(char *, size_t);

#endif
