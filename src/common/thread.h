/*
 * common/thread.h - name the calling thread, so that top -H, perf
 * --comm and /proc/PID/task/N/comm tell the writer, the checkpointer and
 * the loops apart (15 characters at most; longer names are cut).
 */
#ifndef SCENTS_COMMON_THREAD_H
#define SCENTS_COMMON_THREAD_H

#include <sys/prctl.h>

static inline void thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
