/* The stable names of the loader's steps (sam_loader.h). */
#include "sam/sam_loader.h"

const char *sam_load_step_name(int step) {
  switch (step) {
#define SAM__LOAD_STEP_NAME(name, value, code)                                 \
  case (value):                                                                \
    return code;
    SAM_LOAD_STEP_MAP(SAM__LOAD_STEP_NAME)
#undef SAM__LOAD_STEP_NAME
  }
  return "";
}
