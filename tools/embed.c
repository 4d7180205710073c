/*
** embed: turn stdlib files into a C table so mapc needs no files at run time.
** usage: embed OUT.c ROOT FILE...   (names are stored relative to ROOT)
*/
#include <stdio.h>
#include <string.h>

static int emit(FILE *out, const char *path, int idx)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        perror(path);
        return 1;
    }
    fprintf(out, "static const char file%d[] = {", idx);
    int c, n = 0;
    while ((c = fgetc(in)) != EOF)
        fprintf(out, "%s%d,", n++ % 20 ? "" : "\n", c);
    fprintf(out, "0};\n");
    fclose(in);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: embed OUT.c ROOT FILE...\n", stderr);
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    size_t rootlen = strlen(argv[2]);
    fprintf(out, "/* generated from stdlib/ by tools/embed.c — do not edit */\n");
    fprintf(out, "#include \"stdlib_files.h\"\n");
    for (int i = 3; i < argc; i++)
        if (emit(out, argv[i], i))
            return 1;
    fprintf(out, "const StdlibFile stdlib_files[] = {\n");
    for (int i = 3; i < argc; i++) {
        const char *name = argv[i];
        if (strncmp(name, argv[2], rootlen) == 0)
            name += rootlen;
        while (*name == '/')
            name++;
        fprintf(out, "    {\"%s\", file%d, sizeof file%d - 1},\n", name, i, i);
    }
    fprintf(out, "    {0, 0, 0}\n};\n");
    return fclose(out) != 0;
}
