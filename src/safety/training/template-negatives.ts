import type { LabelledText } from './labelled-text.js';

/**
 * Benign requests phrased in the openers of harmful-instruction sets ("Create a tutorial on how to …",
 * "Write a script that …"). AdvBench's 520 rows share a few dozen openers, so the model learned the opener
 * rather than the request: "Instruct someone on how to start a compost bin" scored 0.95. Pairing the same
 * openers with ordinary tasks (written for this repository, Apache-2.0) teaches that the object decides.
 * Deterministic; these rows only train (they are synthetic, so they would flatter any evaluation).
 */
const howOpeners = [
  'Create a tutorial on how to',
  'Write a tutorial on how to',
  'Write a guide on how to',
  'Give step-by-step instructions for how to',
  'Provide detailed instructions on how to',
  'Provide step-by-step instructions for how to',
  'Explain how to',
  'Explain in detail how to',
  'Teach me how to',
  'Teach people how to',
  'Show someone how to',
  'Instruct users on how to',
  'Instruct someone on how to',
  'Describe in detail how to',
  'Offer a guide on how to',
  'Give tips on how to',
  'Give detailed guidance on how to',
  'Demonstrate how to',
  'Outline a plan to',
  'Develop a strategy to',
  'Create a step-by-step plan to',
  'Write a blog post explaining how to',
  'Publish a guide on how to',
  'Suggest ways to',
  'What is the best way to',
  'How can I',
  'Tell me how to',
];

const howTasks = [
  'start a compost bin in a small garden',
  'bake bread without a bread machine',
  'change the oil in a car',
  'care for a rescue dog in its first week',
  'edit videos on a phone',
  'use Git branches and pull requests',
  'kill a frozen process on Linux',
  'shoot sharp photos of the night sky',
  'remove malware from my own laptop',
  'protect a home network from intruders',
  'spot a phishing email before clicking',
  'recognise the signs of an overdose and call for help',
  'store medicines safely away from children',
  'report online harassment to a platform',
  'prepare for a job interview',
  'budget for a family holiday',
  'train a puppy to walk on a lead',
  'grow tomatoes on a balcony',
  'write a cover letter',
  'learn to touch type',
  'clean a cast iron pan',
  'set up a monthly savings plan',
  'fix a leaking tap',
  'paint a room without streaks',
  'make friends after moving to a new city',
  'cut an onion without crying',
  'stay safe while hiking alone',
  'back up photos to an external drive',
  'organise a surprise birthday party',
  'negotiate a lower phone bill',
  'teach a child to ride a bike',
  'deal with a noisy neighbour politely',
  'destroy old documents that contain personal data',
  'get rid of ants in the kitchen without poison',
  'break a bad habit like nail biting',
  'beat procrastination when studying',
  'attack a difficult maths proof',
  'hack together a prototype over a weekend',
  'write a killer opening for a speech',
  'take down an old website and redirect its domain',
  'track my spending with a spreadsheet',
  'monitor my own blood pressure at home',
  'dispose of old paint and batteries legally',
  'handle a panic attack',
  'support a friend who is grieving',
];

const thatOpeners = [
  'Write a script that',
  'Write a program that',
  'Develop an app that',
  'Create a program that',
  'Create a bot that',
  'Develop a tool that',
  'Design a website that',
  'Build a dashboard that',
  'Write a social media post that',
  'Write a letter that',
  'Generate a message that',
  'Create a website that',
  'Develop a mobile app that',
  'Write a function that',
  'Design a game that',
];

const thatTasks = [
  'reminds people to drink water',
  'tracks my daily steps and sleep',
  'renames photos by the date they were taken',
  'helps neighbours lend each other tools',
  'sends a weekly summary of my calendar',
  'checks my website and emails me if it is down',
  'teaches children the times tables',
  'welcomes new members to our choir',
  'collects recipes from my family in one place',
  'thanks volunteers after the charity run',
  'finds duplicate files on a hard drive',
  'shows bus arrival times for my stop',
  'lets students swap second-hand textbooks',
  'reminds patients to take their medication',
  'kills stale worker processes after a timeout',
  'announces our bakery opening on Saturday',
  'encourages people to vote in the local election',
  'converts recipes between metric and imperial units',
  'lists the open ports on my own server',
  'explains to customers how to reset their password',
];

/** About three phrasings per task, chosen deterministically so the data never changes between runs. */
export function templateNegatives(): LabelledText[] {
  const rows: LabelledText[] = [];
  const add = (openers: readonly string[], tasks: readonly string[], kind: string): void => {
    tasks.forEach((task, i) => {
      for (let k = 0; k < 3; k++) {
        const opener = openers[(i * 7 + k * 5) % openers.length] ?? '';
        const text = `${opener} ${task}${opener.startsWith('How') || opener.startsWith('What') ? '?' : '.'}`;
        rows.push({
          source: 'enclave-templates',
          id: `${kind}:${i}:${k}`,
          text,
          label: 0,
          categories: [],
          surface: 'input',
        });
      }
    });
  };
  add(howOpeners, howTasks, 'how');
  add(thatOpeners, thatTasks, 'that');
  return rows;
}
