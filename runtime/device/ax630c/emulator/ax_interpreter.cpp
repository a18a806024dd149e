// A stand-in libax_interpreter: the vendor's libax_engine needs it, so a host
// program links it; the emulated engine needs nothing from it.
extern "C" int qwenc_ax_interpreter_stand_in(void) { return 0; }
