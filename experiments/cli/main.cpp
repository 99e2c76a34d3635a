// Entry point of the tvk command-line tool.
#include "experiments/cli/cli.h"

int main(int argc, char** argv) {
  return tvk::cli::main(argc, argv);
}
