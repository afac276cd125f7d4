/* test-schema.c: the project's own cases for the schema validator. */
#include "sam_test.h"
#include "sam/sam_plugin.h"
#include "sam_schema.h"

static void test_basic(void) {
  sam__schema *s = NULL;
  char err[256];
  const char *sch = "{\"type\":\"object\"}";
  EXPECT_EQ_INT(0,
                sam__schema_compile(sch, strlen(sch), 0, &s, err, sizeof(err)));
  EXPECT_EQ_INT(0, sam__schema_validate(s, "{}", 2, NULL, 0, NULL));
  sam__schema_free(s);
}

int main(void) {
  SAM_T_RUN(test_basic);
  return 0;
}
