/*
 * ast_dump.c — prints a syntax tree in a stable, indented text form (for --dump-ast and golden
 * tests). One item or statement per line; expressions are printed inline:
 *
 *     param lr = num 0.001
 *     model mlp
 *       input x: f32[num 784]
 *       assign h = call relu(call dense(name x, num 512, init = name he_uniform))
 *     train mlp
 *       assign optimizer = call adam(lr = name lr, betas = list [num 0.9, num 0.999])
 *
 * Expressions: `num 512` (integer literal), `num 0.5` / `num 1000.0` (other literals, always
 * with a '.', an exponent, inf or nan), `str "a\"b"`, `name x`, `call f(args)`, `list [elems]`,
 * `(lhs + rhs)`, `(- operand)`. Keyword arguments print as `key = value`.
 */
#include "ast.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void dump_expr(const ast_expr *e, FILE *out);

/* Shortest %g form that reads back as the same double. */
static void format_double(double v, char *buf, size_t size) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static void dump_number(const ast_expr *e, FILE *out) {
    char buf[64];
    format_double(e->num, buf, sizeof buf);
    int looks_int = strpbrk(buf, ".eEin") == NULL; /* no '.', exponent, inf, nan */
    fprintf(out, "num %s%s", buf, !e->is_int && looks_int ? ".0" : "");
}

static void dump_string(const char *s, FILE *out) {
    fputs("str \"", out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void dump_args(const ast_arg *args, int n, FILE *out) {
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        if (args[i].name) fprintf(out, "%s = ", args[i].name);
        dump_expr(args[i].value, out);
    }
}

static void dump_expr(const ast_expr *e, FILE *out) {
    if (!e) {
        fputs("<null>", out);
        return;
    }
    switch (e->kind) {
    case AST_NUM: dump_number(e, out); break;
    case AST_STR: dump_string(e->str, out); break;
    case AST_NAME: fprintf(out, "name %s", e->str); break;
    case AST_CALL:
        fprintf(out, "call %s(", e->str);
        dump_args(e->args, e->n_args, out);
        fputc(')', out);
        break;
    case AST_LIST:
        fputs("list [", out);
        dump_args(e->args, e->n_args, out);
        fputc(']', out);
        break;
    case AST_BINOP:
        fputc('(', out);
        dump_expr(e->lhs, out);
        fprintf(out, " %c ", e->op);
        dump_expr(e->rhs, out);
        fputc(')', out);
        break;
    case AST_NEG:
        fputs("(- ", out);
        dump_expr(e->lhs, out);
        fputc(')', out);
        break;
    }
}

static void dump_type(const ast_type *t, FILE *out) {
    fprintf(out, "%s[", t->dtype);
    for (int i = 0; i < t->rank; i++) {
        if (i) fputs(", ", out);
        dump_expr(t->dims[i], out);
    }
    fputc(']', out);
}

static void dump_stmt(const ast_stmt *s, FILE *out, int indent) {
    fprintf(out, "%*s", indent, "");
    switch (s->kind) {
    case AST_STMT_INPUT:
        fprintf(out, "  input %s: ", s->name);
        dump_type(&s->type, out);
        break;
    case AST_STMT_ASSIGN:
        fprintf(out, "  assign %s = ", s->name);
        dump_expr(s->value, out);
        break;
    case AST_STMT_RETURN:
        fputs("  return ", out);
        dump_expr(s->value, out);
        break;
    case AST_STMT_SECTION:
        fprintf(out, "  section %s %s\n", s->name, s->label);
        for (int i = 0; i < s->n_body; i++) dump_stmt(&s->body[i], out, indent + 2);
        return;
    }
    fputc('\n', out);
}

static void dump_item(const ast_item *it, FILE *out) {
    switch (it->kind) {
    case AST_ITEM_PARAM:
        fprintf(out, "param %s = ", it->name);
        dump_expr(it->value, out);
        fputc('\n', out);
        return;
    case AST_ITEM_MODEL: fprintf(out, "model %s\n", it->name); break;
    case AST_ITEM_TRAIN: fprintf(out, "train %s\n", it->name); break;
    case AST_ITEM_BLOCK:
        fprintf(out, "block %s(", it->name);
        for (int i = 0; i < it->n_params; i++) {
            fprintf(out, "%s%s", i ? ", " : "", it->params[i].name);
            if (it->params[i].value) fputs(" = ", out), dump_expr(it->params[i].value, out);
        }
        fputs(")\n", out);
        break;
    }
    for (int i = 0; i < it->n_stmts; i++) dump_stmt(&it->stmts[i], out, 0);
}

void ast_dump(const ast_file *f, FILE *out) {
    for (int i = 0; i < f->n_items; i++) dump_item(&f->items[i], out);
}
