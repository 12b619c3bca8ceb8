// Owns the two hooks that mark the real-time callback section: rtguard_enter()/rtguard_exit().
// Callers: Engine::renderBlock only. No-ops unless built with -DLC_RT_GUARD, in which case they call
// lc_rtguard_enter/lc_rtguard_exit from the guard library (native/rt-guard, the rtaudio helper's).
#pragma once

#ifdef LC_RT_GUARD
extern "C" void lc_rtguard_enter(void);
extern "C" void lc_rtguard_exit(void);
static inline void rtguard_enter() { lc_rtguard_enter(); }
static inline void rtguard_exit() { lc_rtguard_exit(); }
#else
static inline void rtguard_enter() {}
static inline void rtguard_exit() {}
#endif
