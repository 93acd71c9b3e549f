package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/quiz"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// QuizOptions are the quiz command's streams and flags.
type QuizOptions struct {
	IO *IOStreams
	// Number is the course question to print, 1 to 8; 0 prints them all.
	Number   int
	Format   string
	Practice bool
	Count    int
	Seed     uint64
	SeedSet  bool
	Kinds    []string
}

func newQuizCmd(ios *IOStreams, runF func(*QuizOptions) error) *cobra.Command {
	opts := &QuizOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "quiz [N]",
		Short: "The course's week 1 self-check, answered by calc and exec; --practice drills fresh questions",
		Long: `quiz prints the eight questions of the self-check that ends the lecture notes
(Coursera "Convolutional Neural Networks", week 1 quiz), each with its answer
computed now by calc and exec, the worked formula and the run-time evidence.
The course writes volumes H x W x C, the lecture (and cnncalc) C x H x W; every
volume is shown in both.

With --practice, quiz draws fresh questions of the numeric kinds, asks them on
standard input (a terminal or a file of answers, one a line; end of input ends
the session), grades each answer, explains a wrong one with the worked formula
and the likely slip, and ends with the score. Kinds: ` + strings.Join(quiz.KindNames(), ", ") + `.`,
		Example: `  cnncalc quiz
  cnncalc quiz 4 --format json
  cnncalc quiz --practice --count 10 --kinds conv,pool --seed 7
  cnncalc quiz --practice --seed 7 < answers.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 || n > quiz.Questions {
					return usageErr("no question %q: the quiz has questions 1 to %d", args[0], quiz.Questions)
				}
				opts.Number = n
			}
			opts.SeedSet = cmd.Flags().Changed("seed")
			if runF != nil {
				return runF(opts)
			}
			return quizRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format of the course questions: table or json")
	cmd.Flags().BoolVar(&opts.Practice, "practice", false, "ask fresh questions on standard input and grade the answers")
	cmd.Flags().IntVar(&opts.Count, "count", 5, "practice: number of questions")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "practice: random seed (default: from the clock, printed)")
	cmd.Flags().StringSliceVar(&opts.Kinds, "kinds", nil, "practice: question kinds, comma-separated (default all): "+strings.Join(quiz.KindNames(), ","))
	registerFormat(cmd, "table\tquestions, answers and evidence", "json\tfor scripts")
	cmd.RegisterFlagCompletionFunc("kinds", completeList(kindValues))
	cmd.ValidArgsFunction = completeQuestion
	return cmd
}

func quizRun(opts *QuizOptions) error {
	switch opts.Format {
	case "table", "text", "json":
	default:
		return usageErr("unknown --format %q: use table or json", opts.Format)
	}
	if opts.Practice {
		if opts.Number != 0 {
			return usageErr("--practice draws its own questions; leave out the question number")
		}
		if opts.Format == "json" {
			return usageErr("--format json is for the course questions; --practice is interactive")
		}
		return quizPractice(opts)
	}
	var items []*quiz.Item
	for n := 1; n <= quiz.Questions; n++ {
		if opts.Number != 0 && opts.Number != n {
			continue
		}
		it, err := quiz.Question(n)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	w := opts.IO.Out
	if opts.Number == 0 {
		fmt.Fprintln(w, `Coursera "Convolutional Neural Networks", week 1 quiz: every answer below is computed now`)
		fmt.Fprintln(w, "by calc (formulas) and exec (float32 kernels). The course writes volumes H x W x C,")
		fmt.Fprintln(w, "the lecture and cnncalc C x H x W.")
	}
	for i, it := range items {
		if opts.Number == 0 || i > 0 {
			fmt.Fprintln(w)
		}
		it.Write(w)
	}
	return nil
}

// quizPractice asks opts.Count generated questions on standard input.
func quizPractice(opts *QuizOptions) error {
	if opts.Count < 1 || opts.Count > 1000 {
		return usageErr("--count must be between 1 and 1000, got %d", opts.Count)
	}
	kinds, err := quiz.SelectKinds(opts.Kinds)
	if err != nil {
		return usageErr("%v", err)
	}
	seed := opts.Seed
	if !opts.SeedSet {
		seed = uint64(time.Now().UnixNano())
	}
	problems, err := quiz.Generate(seed, opts.Count, kinds)
	if err != nil {
		return err
	}
	w := opts.IO.Out
	terminal := false
	if f, ok := opts.IO.In.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		terminal = true
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	fmt.Fprintf(w, "Practice: %d questions, seed %d (--seed %d asks them again).\n", len(problems), seed, seed)
	fmt.Fprintf(w, "Kinds: %s.\n", strings.Join(names, ", "))
	fmt.Fprintln(w, "Answer on one line: 29x29x32 or 29 29 32 in the order asked; 7600, 7,600 or 7.6K; skip.")
	in := bufio.NewReader(opts.IO.In)
	var readErr error
	right, asked := 0, 0
session:
	for i, q := range problems {
		fmt.Fprintln(w)
		quiz.Wrap(w, fmt.Sprintf("%d/%d [%s] ", i+1, len(problems), q.Kind), q.Text)
		for {
			fmt.Fprint(w, "> ")
			line, n, err := readAnswer(in)
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				fmt.Fprintln(w)
				fmt.Fprintln(w, "(end of input)")
				break session
			}
			if n > maxAnswer {
				if !terminal {
					fmt.Fprintf(w, "(a line of %s bytes)\n", calc.Group(int64(n)))
				}
				fmt.Fprintf(w, "that line is %s bytes long, over the %d KiB an answer may take; answer on one line, or skip\n",
					calc.Group(int64(n)), maxAnswer>>10)
				continue
			}
			if !terminal {
				fmt.Fprintln(w, escapeLine(line))
			}
			g := q.Grade(line)
			if g.Malformed != "" {
				fmt.Fprintln(w, g.Malformed)
				continue
			}
			asked++
			if g.Right {
				right++
				fmt.Fprintf(w, "right: %s\n", q.Answer())
				if g.Note != "" {
					fmt.Fprintf(w, "  %s\n", g.Note)
				}
				break
			}
			if g.Skipped {
				fmt.Fprintf(w, "skipped: the answer is %s\n", q.Answer())
			} else {
				fmt.Fprintf(w, "wrong: the answer is %s\n", q.Answer())
			}
			for _, f := range q.Formula {
				fmt.Fprintf(w, "  %s\n", f)
			}
			if g.Note != "" {
				quiz.Wrap(w, "  ", g.Note)
			}
			break
		}
	}
	fmt.Fprintf(w, "\nScore: %d/%d\n", right, asked)
	return readErr
}

// maxAnswer is the longest answer line read, in bytes; a longer one is
// skipped to its end, never held in memory, and the question asked again.
const maxAnswer = 64 << 10

// readAnswer reads one line and returns it without its line break (\n or
// \r\n) and its length n, the line break excluded. When n > maxAnswer the
// line is read to its end but not returned. The error is io.EOF at the end
// of the input, when no line is left.
func readAnswer(r *bufio.Reader) (line string, n int, err error) {
	var buf []byte
	var last2 [2]byte // the line's last two bytes, for its line break
	for {
		chunk, err := r.ReadSlice('\n')
		n += len(chunk)
		if room := maxAnswer + 2 - len(buf); room > 0 { // the line, \r and \n
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		switch len(chunk) {
		case 0:
		case 1:
			last2 = [2]byte{last2[1], chunk[0]}
		default:
			last2 = [2]byte{chunk[len(chunk)-2], chunk[len(chunk)-1]}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || n == 0) {
			return "", 0, err
		}
		break // a line break, or the end of the input after a last line
	}
	if last2[1] == '\n' {
		n--
		if last2[0] == '\r' {
			n--
		}
	} else if last2[1] == '\r' {
		n--
	}
	if n > maxAnswer {
		return "", n, nil
	}
	line = strings.TrimSuffix(string(buf), "\n")
	return strings.TrimSuffix(line, "\r"), n, nil
}
