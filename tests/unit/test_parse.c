/*
 * test_parse.c — unit tests for the frontend: the parser builds the right tree (checked through
 * ast_dump and through source locations), syntax and lexical errors are reported clang-style
 * with the right line:col, recovery reports several errors per file, and the helpers in
 * support/diag.c behave. Prints "N passed, M failed"; exits non-zero on any failure.
 */
#include "frontend/ast.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tally {
    int passed, failed;
} tally;

#define CHECK(t, cond) check((t), (cond) ? 1 : 0, #cond, __FILE__, __LINE__)

static int check(tally *t, int ok, const char *what, const char *file, int line) {
    if (ok) t->passed++;
    else {
        t->failed++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    }
    return ok;
}

static void check_text(tally *t, const char *got, const char *want, const char *file, int line) {
    if (check(t, strcmp(got, want) == 0, "text matches", file, line)) return;
    fprintf(stderr, "--- want:\n%s--- got:\n%s---\n", want, got);
}
#define CHECK_TEXT(t, got, want) check_text((t), (got), (want), __FILE__, __LINE__)

static int loc_is(src_loc l, int line, int col, int len) {
    return l.line == line && l.col == col && l.len == len;
}

/* ---- running the parser on a string ---- */

enum { OUT_MAX = 16384 };

typedef struct parsed {
    arena a;
    diag d;
    ast_file *f;          /* NULL after errors */
    char errors[OUT_MAX]; /* everything diagnostics printed */
    char dump[OUT_MAX];   /* ast_dump of f, when there is one */
} parsed;

/* Reads back what was written to a temporary file. */
static void slurp(FILE *fp, char *buf, size_t size) {
    rewind(fp);
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

static void run_parse(parsed *p, const char *src) {
    memset(p, 0, sizeof *p);
    diag_init(&p->d, "model.dl", src);
    p->d.out = tmpfile();
    if (!p->d.out) {
        perror("tmpfile");
        exit(2);
    }
    p->f = parse_file(src, &p->a, &p->d);
    slurp(p->d.out, p->errors, sizeof p->errors);
    p->d.out = NULL;
    if (p->f) {
        FILE *fp = tmpfile();
        if (!fp) exit(2);
        ast_dump(p->f, fp);
        slurp(fp, p->dump, sizeof p->dump);
    }
}

/* Parses src, expects success and the given dump. */
static void expect_dump(tally *t, const char *src, const char *want, int line) {
    parsed p;
    run_parse(&p, src);
    check(t, p.f != NULL, "parses", __FILE__, line);
    check_text(t, p.errors, "", __FILE__, line);
    check_text(t, p.dump, want, __FILE__, line);
    arena_free(&p.a);
}

/* Parses src, expects failure with exactly the given diagnostics. */
static void expect_errors(tally *t, const char *src, const char *want, int line) {
    parsed p;
    run_parse(&p, src);
    check(t, p.f == NULL, "parse fails", __FILE__, line);
    check_text(t, p.errors, want, __FILE__, line);
    arena_free(&p.a);
}

/* ---- well-formed input ---- */

static const char example[] =
    "# comment to end of line\n"
    "param lr = 0.001            # hyperparameter\n"
    "param epochs = 5\n"
    "\n"
    "model mlp {\n"
    "  input x: f32[784]\n"
    "  input y: i32[]\n"
    "  h = relu(dense(x, 512, init = he_uniform))\n"
    "  h = relu(dense(h, 512))\n"
    "  logits = dense(h, 10)\n"
    "}\n"
    "\n"
    "train mlp {\n"
    "  data = mnist(x = image, y = label)\n"
    "  loss = cross_entropy(logits, y)\n"
    "  optimizer = adam(lr = lr, betas = [0.9, 0.999])\n"
    "  batch = 128\n"
    "  epochs = epochs\n"
    "  seed = 42\n"
    "  validation = 0.1\n"
    "  metrics = [accuracy]\n"
    "}\n";

static void test_example_dump(tally *t) {
    expect_dump(t, example,
                "param lr = num 0.001\n"
                "param epochs = num 5\n"
                "model mlp\n"
                "  input x: f32[num 784]\n"
                "  input y: i32[]\n"
                "  assign h = call relu(call dense(name x, num 512, init = name he_uniform))\n"
                "  assign h = call relu(call dense(name h, num 512))\n"
                "  assign logits = call dense(name h, num 10)\n"
                "train mlp\n"
                "  assign data = call mnist(x = name image, y = name label)\n"
                "  assign loss = call cross_entropy(name logits, name y)\n"
                "  assign optimizer = call adam(lr = name lr, betas = list [num 0.9, num 0.999])\n"
                "  assign batch = num 128\n"
                "  assign epochs = name epochs\n"
                "  assign seed = num 42\n"
                "  assign validation = num 0.1\n"
                "  assign metrics = list [name accuracy]\n",
                __LINE__);
}

static void test_example_tree(tally *t) {
    parsed p;
    run_parse(&p, example);
    if (!CHECK(t, p.f && p.f->n_items == 4)) return;
    const ast_item *lr = &p.f->items[0], *model = &p.f->items[2], *train = &p.f->items[3];
    CHECK(t, lr->kind == AST_ITEM_PARAM && strcmp(lr->name, "lr") == 0);
    CHECK(t, loc_is(lr->loc, 2, 1, 5) && loc_is(lr->name_loc, 2, 7, 2));
    CHECK(t, lr->value->kind == AST_NUM && lr->value->num == 0.001 && !lr->value->is_int);
    CHECK(t, p.f->items[1].value->is_int && p.f->items[1].value->num == 5);
    CHECK(t, model->kind == AST_ITEM_MODEL && model->n_stmts == 5);
    CHECK(t, loc_is(model->loc, 5, 1, 5) && loc_is(model->name_loc, 5, 7, 3));
    const ast_stmt *x = &model->stmts[0];
    CHECK(t, x->kind == AST_STMT_INPUT && loc_is(x->loc, 6, 9, 1));
    CHECK(t, strcmp(x->type.dtype, "f32") == 0 && loc_is(x->type.loc, 6, 12, 3));
    CHECK(t, x->type.rank == 1 && x->type.dims[0]->num == 784 && loc_is(x->type.dims[0]->loc, 6, 16, 3));
    CHECK(t, model->stmts[1].type.rank == 0 && model->stmts[1].type.dims == NULL);
    const ast_stmt *h = &model->stmts[2];
    CHECK(t, h->kind == AST_STMT_ASSIGN && loc_is(h->loc, 8, 3, 1));
    const ast_expr *relu = h->value, *dense = relu->args[0].value;
    CHECK(t, relu->kind == AST_CALL && loc_is(relu->loc, 8, 7, 4) && relu->n_args == 1);
    CHECK(t, dense->kind == AST_CALL && loc_is(dense->loc, 8, 12, 5) && dense->n_args == 3);
    CHECK(t, dense->args[0].name == NULL && dense->args[2].name != NULL);
    CHECK(t, strcmp(dense->args[2].name, "init") == 0 && loc_is(dense->args[2].name_loc, 8, 26, 4));
    CHECK(t, loc_is(dense->args[2].value->loc, 8, 33, 10));
    CHECK(t, train->kind == AST_ITEM_TRAIN && strcmp(train->name, "mlp") == 0 && train->n_stmts == 8);
    const ast_expr *betas = train->stmts[2].value->args[1].value;
    CHECK(t, betas->kind == AST_LIST && betas->n_args == 2 && loc_is(betas->loc, 16, 37, 12));
    arena_free(&p.a);
}

static void test_expressions(tally *t) {
    expect_dump(t, "param p = 1 + 2 * -3 - 4 / (5 - 6) * x\n",
                "param p = ((num 1 + (num 2 * (- num 3))) - ((num 4 / (num 5 - num 6)) * name x))\n",
                __LINE__);
    expect_dump(t, "param a = 512 param b = 1e-3; param c = .5 param d = 1. param e = 2E+2\n",
                "param a = num 512\nparam b = num 0.001\nparam c = num 0.5\n"
                "param d = num 1.0\nparam e = num 200.0\n",
                __LINE__);
    expect_dump(t, "model m { s = \"a \\\"q\\\" \\\\ b\"; w = enc.w; z = []; l = [1, [2], f(),]; "
                   "c = f(a, b = 2,) }\n",
                "model m\n"
                "  assign s = str \"a \\\"q\\\" \\\\ b\"\n"
                "  assign w = name enc.w\n"
                "  assign z = list []\n"
                "  assign l = list [num 1, list [num 2], call f()]\n"
                "  assign c = call f(name a, b = num 2)\n",
                __LINE__);
    expect_dump(t, "model empty {}\ntrain empty { input q: f32[a, 2 * a] }",
                "model empty\ntrain empty\n  input q: f32[name a, (num 2 * name a)]\n", __LINE__);
    expect_dump(t, "", "", __LINE__);
    expect_dump(t, "# nothing\n\n", "", __LINE__);
}

static void test_expression_locations(tally *t) {
    parsed p;
    run_parse(&p, "param p = 2 * (a + 10)\nparam q = -x\n");
    if (!CHECK(t, p.f && p.f->n_items == 2)) return;
    const ast_expr *mul = p.f->items[0].value;
    CHECK(t, mul->kind == AST_BINOP && mul->op == '*' && loc_is(mul->loc, 1, 11, 12));
    CHECK(t, mul->rhs->kind == AST_BINOP && loc_is(mul->rhs->loc, 1, 16, 6));
    CHECK(t, mul->rhs->rhs->is_int && loc_is(mul->rhs->rhs->loc, 1, 20, 2));
    const ast_expr *neg = p.f->items[1].value;
    CHECK(t, neg->kind == AST_NEG && loc_is(neg->loc, 2, 11, 2) && neg->lhs->kind == AST_NAME);
    arena_free(&p.a);
}

/* ---- errors ---- */

static void test_missing_paren(tally *t) {
    expect_errors(t,
                  "model mlp {\n"
                  "  input x: f32[784]\n"
                  "  h = relu(dense(x, 512)\n"
                  "  logits = dense(h, 10)\n"
                  "}\n",
                  "model.dl:4:3: error: unexpected identifier 'logits'; expected ')'\n"
                  "  logits = dense(h, 10)\n"
                  "  ^~~~~~\n"
                  "model.dl:3:11: note: to match this '('\n"
                  "  h = relu(dense(x, 512)\n"
                  "          ^\n",
                  __LINE__);
}

static void test_end_of_file(tally *t) {
    expect_errors(t, "model m {\n  h = x\n",
                  "model.dl:2:8: error: unexpected end of file; expected '}'\n"
                  "  h = x\n"
                  "       ^\n"
                  "model.dl:1:9: note: to match this '{'\n"
                  "model m {\n"
                  "        ^\n",
                  __LINE__);
    expect_errors(t, "param p = [1, 2",
                  "model.dl:1:16: error: unexpected end of file; expected ']'\n"
                  "param p = [1, 2\n"
                  "               ^\n"
                  "model.dl:1:11: note: to match this '['\n"
                  "param p = [1, 2\n"
                  "          ^\n",
                  __LINE__);
}

static void test_lexical_errors(tally *t) {
    expect_errors(t, "model m {\n  seed = $\n  s = \"abc\n  n = 512x\n}\n",
                  "model.dl:2:10: error: invalid character '$'\n"
                  "  seed = $\n"
                  "         ^\n"
                  "model.dl:3:7: error: unterminated string\n"
                  "  s = \"abc\n"
                  "      ^\n"
                  "model.dl:4:7: error: invalid number '512x'\n"
                  "  n = 512x\n"
                  "      ^~~~\n",
                  __LINE__);
    expect_errors(t, "param s = \"a\\nb\"\n",
                  "model.dl:1:13: error: unknown escape sequence '\\n' in string\n"
                  "param s = \"a\\nb\"\n"
                  "            ^~\n",
                  __LINE__);
}

static void test_unexpected_tokens(tally *t) {
    /* 'return' ends a block; it starts no item */
    expect_errors(t, "return b\n",
                  "model.dl:1:1: error: unexpected keyword 'return'; expected 'param', 'model', "
                  "'train' or 'block'\n"
                  "return b\n"
                  "^~~~~~\n",
                  __LINE__);
    expect_errors(t, "param 5\nblock b { }\nmodel m { x = 1 }\ntrain m { a = 1 2 }\n",
                  "model.dl:1:7: error: unexpected number '5'; expected identifier\n"
                  "param 5\n"
                  "      ^\n"
                  "model.dl:2:9: error: unexpected '{'; expected '('\n"
                  "block b { }\n"
                  "        ^\n"
                  "model.dl:4:17: error: unexpected number '2'; expected statement or '}'\n"
                  "train m { a = 1 2 }\n"
                  "                ^\n",
                  __LINE__);
    expect_errors(t, "model m { h = f(x = ) }\nmodl n { }\n",
                  "model.dl:1:21: error: unexpected ')'; expected expression\n"
                  "model m { h = f(x = ) }\n"
                  "                    ^\n"
                  "model.dl:2:1: error: unexpected identifier 'modl'; did you mean 'model'?\n"
                  "modl n { }\n"
                  "^~~~\n",
                  __LINE__);
    expect_errors(t, "model m { h = f(a = 1, x) }\n",
                  "model.dl:1:24: error: positional argument follows keyword argument\n"
                  "model m { h = f(a = 1, x) }\n"
                  "                       ^\n",
                  __LINE__);
}

/* One error per broken statement; multi-line expressions are skipped as a whole. */
static void test_recovery(tally *t) {
    parsed p;
    run_parse(&p, "model m {\n"
                  "  a = dense(x,,\n"
                  "            512,\n"
                  "            init = he)\n"
                  "  b = 3 3\n"
                  "  input c f32\n"
                  "  d = ok\n"
                  "}\n"
                  "param = 1\n"
                  "train m { batch = }\n");
    CHECK(t, p.f == NULL && p.d.n_errors == 5);
    CHECK(t, strstr(p.errors, "model.dl:2:15: error: unexpected ','; expected expression or ')'\n"));
    CHECK(t, strstr(p.errors, "model.dl:5:9: error: unexpected number '3'"));
    CHECK(t, strstr(p.errors, "model.dl:6:11: error: unexpected identifier 'f32'; expected ':'\n"));
    CHECK(t, strstr(p.errors, "model.dl:9:7: error: unexpected '='; expected identifier\n"));
    CHECK(t, strstr(p.errors, "model.dl:10:19: error: unexpected '}'; expected expression\n"));
    arena_free(&p.a);
    /* a continuation line (deeper than the line that opened the bracket) is not a statement */
    run_parse(&p, "train m {\n"
                  "  optimizer = adam(lr = lr\n"
                  "                   betas = [0.9])\n"
                  "  batch = 5 5\n"
                  "}\n");
    CHECK(t, p.f == NULL && p.d.n_errors == 2);
    CHECK(t, strstr(p.errors, "model.dl:3:20: error: unexpected identifier 'betas'; expected ')'\n"));
    CHECK(t, strstr(p.errors, "model.dl:4:13: error: unexpected number '5'"));
    arena_free(&p.a);
}

static void test_tab_caret(tally *t) {
    expect_errors(t, "model m {\n\th =\tf(x]\n}\n",
                  "model.dl:2:9: error: unexpected ']'; expected ')'\n"
                  "\th =\tf(x]\n"
                  "\t   \t   ^\n"
                  "model.dl:2:7: note: to match this '('\n"
                  "\th =\tf(x]\n"
                  "\t   \t ^\n",
                  __LINE__);
}

/* State from a failed parse must not leak into the next one. */
static void test_independent_parses(tally *t) {
    parsed bad;
    run_parse(&bad, "model m { h = relu(x\n");
    CHECK(t, bad.f == NULL);
    expect_dump(t, "model m { h = relu(x) }", "model m\n  assign h = call relu(name x)\n", __LINE__);
    arena_free(&bad.a);
}

/* ---- diag.c ---- */

static void test_diag_format(tally *t) {
    char out[1024];
    diag d;
    diag_init(&d, "f.dl", "a = 1\nbb = two  \n");
    d.out = tmpfile();
    if (!d.out) exit(2);
    diag_error(&d, (src_loc){2, 6, 3}, "unknown name '%s'", "two");
    diag_note(&d, (src_loc){1, 1, 0}, "here");
    diag_error(&d, (src_loc){0, 0, 0}, "no location");
    diag_plain_error(&d, "-D %s: bad", "x");
    diag_error(&d, (src_loc){2, 8, 50}, "underline is clipped to the line");
    slurp(d.out, out, sizeof out);
    CHECK(t, d.n_errors == 4);
    CHECK_TEXT(t, out,
               "f.dl:2:6: error: unknown name 'two'\n"
               "bb = two  \n"
               "     ^~~\n"
               "f.dl:1:1: note: here\n"
               "a = 1\n"
               "^\n"
               "f.dl: error: no location\n"
               "dlc: error: -D x: bad\n"
               "f.dl:2:8: error: underline is clipped to the line\n"
               "bb = two  \n"
               "       ^~~\n");
}

static void test_closest(tally *t) {
    const char *const acts[] = {"relu", "leaky_relu", "sigmoid", "tanh"};
    CHECK(t, diag_closest("leaky_rleu", acts, 4) == acts[1]);
    CHECK(t, diag_closest("rel", acts, 4) == acts[0]);
    CHECK(t, diag_closest("tanh", acts, 4) == acts[3]);
    CHECK(t, diag_closest("softmax", acts, 4) == NULL);
    CHECK(t, diag_closest("sigmod", acts, 4) == acts[2]);
    CHECK(t, diag_closest("xy", acts, 0) == NULL);
    const char *const ties[] = {"ab", "ac"};
    CHECK(t, diag_closest("aa", ties, 2) == ties[0]);
}

int main(void) {
    tally t = {0, 0};
    test_example_dump(&t);
    test_example_tree(&t);
    test_expressions(&t);
    test_expression_locations(&t);
    test_missing_paren(&t);
    test_end_of_file(&t);
    test_lexical_errors(&t);
    test_unexpected_tokens(&t);
    test_recovery(&t);
    test_tab_caret(&t);
    test_independent_parses(&t);
    test_diag_format(&t);
    test_closest(&t);
    printf("%d passed, %d failed\n", t.passed, t.failed);
    return t.failed != 0;
}
