/*
 * Stands in for the flite speech synthesiser and its voices in Guichet's WebKit processes
 * (see src/voices.rs). WebKitGTK links flite for the page's speech synthesis, which the
 * window never uses, and every process that loads WebKit relocates the voices' tables: about
 * 3 MB of private memory each. These are the functions WebKitGTK 2.50 imports from flite.
 * Each voice registered is one voice named "silent", and whatever it is asked to say is a
 * wave of no samples: the page's speech synthesis finds voices and speaks silence, as
 * WebKit expects at least one voice and a wave to read. The app checks at start that the
 * installed WebKitGTK imports nothing else from flite, and keeps the real one otherwise.
 */
#include <stddef.h>

/* The leading fields of flite's cst_voice and cst_wave, the ones WebKit reads. */
struct voice {
    const char *name;
    void *features;
    void *ffunctions;
    void *utt_init;
};

struct wave {
    const char *type;
    int sample_rate;
    int num_samples;
    int num_channels;
    short *samples;
};

static struct voice silent = { "silent", NULL, NULL, NULL };
static short no_samples[1];
static struct wave silence = { "riff", 16000, 0, 1, no_samples };

void *cmulex_init(void) { return NULL; }
void *usenglish_init(void *voice) { (void)voice; return NULL; }
int flite_init(void) { return 0; }
int flite_add_lang(const char *lang, void *lang_init, void *lex_init) {
    (void)lang; (void)lang_init; (void)lex_init;
    return 0;
}
void *register_cmu_us_awb(const char *voxdir) { (void)voxdir; return &silent; }
void *register_cmu_us_kal(const char *voxdir) { (void)voxdir; return &silent; }
void *register_cmu_us_rms(const char *voxdir) { (void)voxdir; return &silent; }
void *register_cmu_us_slt(const char *voxdir) { (void)voxdir; return &silent; }
void delete_voice(void *voice) { (void)voice; }
void *flite_text_to_wave(const char *text, void *voice) { (void)text; (void)voice; return &silence; }
void *cst_wave_resample(void *wave, int rate) { (void)rate; return wave; }
void delete_wave(void *wave) { (void)wave; }
