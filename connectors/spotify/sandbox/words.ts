/**
 * Word lists and deliberately messy names for the generated catalog. The messy names exist so
 * that the pipeline is exercised with what real Spotify data contains: commas and double quotes
 * (CSV/SQL quoting), a newline (line-based formats), non-Latin scripts and emoji (UTF-8 end to end).
 */

export const ADJECTIVES = [
  'Velvet', 'Electric', 'Silent', 'Golden', 'Broken', 'Neon', 'Hollow', 'Crimson', 'Paper', 'Wild',
  'Midnight', 'Lunar', 'Static', 'Sugar', 'Glass', 'Northern', 'Lost', 'Blue', 'Second', 'Quiet',
  'Digital', 'Royal', 'Frozen', 'Bright', 'Secret', 'Faded', 'Young', 'Heavy', 'Soft', 'Last',
];

export const NOUNS = [
  'Harbor', 'Signal', 'Garden', 'River', 'Echo', 'Machine', 'Season', 'Ocean', 'Satellite', 'Fever',
  'Mirror', 'Forest', 'Highway', 'Thunder', 'Window', 'Dream', 'Avenue', 'Comet', 'Lantern', 'Tide',
  'Parade', 'Motel', 'Desert', 'Citadel', 'Orchard', 'Circuit', 'Canyon', 'Island', 'Engine', 'Rose',
];

export const PLURALS = [
  'Wolves', 'Strangers', 'Lights', 'Kids', 'Ghosts', 'Sparrows', 'Kings', 'Pilots', 'Rivals', 'Saints',
  'Shadows', 'Dreamers', 'Tigers', 'Giants', 'Drifters', 'Lovers', 'Hearts', 'Rebels', 'Stars', 'Foxes',
];

export const FIRST_NAMES = [
  'Maya', 'Leo', 'Nina', 'Oscar', 'Ivy', 'Jonas', 'Clara', 'Elias', 'Ruby', 'Theo', 'Sofia', 'Hugo',
  'Lena', 'Felix', 'Ada', 'Marco', 'Iris', 'Noah', 'Freya', 'Omar', 'Yuna', 'Diego', 'Amara', 'Sven',
];

export const LAST_NAMES = [
  'Hart', 'Lindqvist', 'Moreau', 'Okafor', 'Reyes', 'Nakamura', 'Kowalski', 'Brennan', 'Silva',
  'Novak', 'Fischer', 'Haddad', 'Ivanova', 'Quinn', 'Delacroix', 'Bianchi', 'Park', 'Osei',
];

export const TRACK_WORDS = [
  'Love', 'Night', 'Home', 'Fire', 'Gold', 'Rain', 'Heart', 'Summer', 'Stay', 'Run', 'Falling',
  'Alive', 'Daylight', 'Closer', 'Paradise', 'Waves', 'Shine', 'Gravity', 'Holiday', 'Starlight',
  'Tonight', 'Forever', 'Wonder', 'Colors', 'Horizon', 'Control', 'Magic', 'Youth', 'Sirens', 'Bloom',
];

export const GENRES = [
  'indie pop', 'dream pop', 'synthwave', 'alt rock', 'neo soul', 'lo-fi beats', 'j-pop', 'city pop',
  'russian indie', 'deep house', 'art pop', 'post-punk', 'bedroom pop', 'afrobeats', 'jazz fusion',
];

export const LABELS = [
  'Harbor Lights Records', 'Static Bloom', 'Northern Echo Music', 'Paper Moon Recordings',
  'Midnight Parade', 'Kōyō Records', 'Луна Рекордс', 'Independent',
];

export const MARKETS = ['AR', 'AU', 'BR', 'CA', 'DE', 'ES', 'FR', 'GB', 'IT', 'JP', 'MX', 'NL', 'PL', 'SE', 'US'];

/** Guaranteed messy artist names, given to the first artists of the catalog. */
export const MESSY_ARTIST_NAMES = [
  'Wind, Rain & Fire', // comma
  'The "Real" Thing', // double quotes
  '星野 ひかり', // Japanese
  'Кино и Звёзды', // Cyrillic
  'Lil Sunshine ☀️', // emoji (with a variation selector)
  'Zoë & the Naïve Ones', // diacritics
];

/** Guaranteed messy album names, given to the first albums. */
export const MESSY_ALBUM_NAMES = ['Songs, Mostly', '夏の終わりに', 'Live at "The Roxy"', 'Пути 🚀'];

/** Guaranteed messy track names, given to the first tracks. */
export const MESSY_TRACK_NAMES = [
  'Line One\nLine Two', // a newline
  'Yes, No, Maybe', // commas
  'She Said "Go"', // double quotes
  '東京の夜', // Japanese
  'Ночной город', // Cyrillic
  'Fire 🔥🔥', // emoji
  "Don't Stop; Won't Stop", // apostrophes and a semicolon
  'Tab\tSeparated', // a tab
];

export const SHOW_NAMES = [
  'The Data Engineering Hour',
  'Ποδκαστ: Stories from the Road', // Greek
  'Music, Mostly: A Podcast',
  'ラジオの時間',
];
